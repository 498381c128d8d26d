//! Access on the Settings page: API keys (shown once at creation) and, for admins, members
//! and their credits.

use leptos::prelude::*;

use crate::api::access::{
    AddMember, CreateApiKey, RevokeApiKey, TopUp, list_api_keys, list_members,
};
use crate::components::toast::{ToastKind, use_toasts};
use crate::model::AppError;
use crate::pages::{Shape, Skeleton};
use wire::access::Member;
use wire::format::timestamp;

/// Reports a finished action as a toast.
fn toast_result<T>(result: Option<Result<T, AppError>>, success: &str) {
    if let (Some(result), Some(toasts)) = (result, use_toasts()) {
        match result {
            Ok(_) => toasts.show(ToastKind::Success, success),
            Err(e) => toasts.show(ToastKind::Error, e.to_string()),
        }
    }
}

/// API keys for programs.
#[component]
pub fn ApiKeysCard() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    Effect::new(move |_| {
        if let Some(Err(e)) = create.value().get()
            && let Some(t) = use_toasts()
        {
            t.show(ToastKind::Error, e.to_string());
        }
    });
    Effect::new(move |_| toast_result(revoke.value().get(), "API key revoked"));
    view! {
        <section class="card">
            <h2>"API keys"</h2>
            <p class="muted">"For programs: send " <code>"Authorization: Bearer <key>"</code> " to /api/v1. A key acts with its owner's role."</p>
            {move || match create.value().get() {
                Some(Ok(created)) => Some(view! {
                    <div class="secret-once" role="status">
                        <strong>"Copy your new key now: it is not shown again."</strong>
                        <code data-testid="new-api-key">{created.key}</code>
                    </div>
                }),
                _ => None,
            }}
            <Transition fallback=|| view! { <Skeleton shapes=&[Shape::Rows(2)] /> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">"No API keys yet."</p> }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-scroll" tabindex="0">
                                <table data-testid="api-key-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Key"</th>
                                            <th scope="col">"Created"</th>
                                            <th scope="col">"Last used"</th>
                                            <th scope="col"></th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows.into_iter().map(|k| {
                                            let id = k.id.clone();
                                            view! {
                                                <tr>
                                                    <td>{k.name}</td>
                                                    <td><code>{format!("{}…", k.prefix)}</code></td>
                                                    <td>{timestamp(k.created_at)}</td>
                                                    <td>{k.last_used_at.map_or_else(|| "never".to_owned(), timestamp)}</td>
                                                    <td>
                                                        {if k.revoked_at.is_some() {
                                                            view! { <span class="muted">"revoked"</span> }.into_any()
                                                        } else {
                                                            view! {
                                                                <button class="button button-secondary button-small" type="button"
                                                                    on:click=move |_| { revoke.dispatch(RevokeApiKey { id: id.clone() }); }>
                                                                    "Revoke"
                                                                </button>
                                                            }.into_any()
                                                        }}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=create attr:class="inline-form">
                <label>
                    "New key name"
                    <input name="name" required maxlength="80" placeholder="CI pipeline" data-testid="api-key-name" />
                </label>
                <button class="button" type="submit" data-testid="api-key-submit">"Create key"</button>
            </ActionForm>
        </section>
    }
}

/// Members and credits (admins only; others see nothing).
#[component]
pub fn MembersCard() -> impl IntoView {
    let add = ServerAction::<AddMember>::new();
    let top_up = ServerAction::<TopUp>::new();
    let members = Resource::new(
        move || (add.version().get(), top_up.version().get()),
        |_| list_members(),
    );
    Effect::new(move |_| toast_result(add.value().get(), "Member added"));
    Effect::new(move |_| toast_result(top_up.value().get(), "Credits added"));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match members.await {
                    Ok(rows) => view! { <MembersTable rows add top_up /> }.into_any(),
                    // Not an admin: the section is not theirs.
                    Err(AppError::Denied(_)) => ().into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MembersTable(
    rows: Vec<Member>,
    add: ServerAction<AddMember>,
    top_up: ServerAction<TopUp>,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Members and credits"</h2>
            <p class="muted">"Each agent run costs one credit; balances never go below zero."</p>
            <div class="table-scroll" tabindex="0">
                <table data-testid="member-table">
                    <thead>
                        <tr>
                            <th scope="col">"E-mail"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col" class="num">"Credits"</th>
                            <th scope="col"></th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|m| {
                            let id = m.id.clone();
                            view! {
                                <tr>
                                    <td>{m.email}</td>
                                    <td>{m.role}</td>
                                    <td class="num">{m.credits}</td>
                                    <td>
                                        <button class="button button-secondary button-small" type="button"
                                            on:click=move |_| { top_up.dispatch(TopUp { user_id: id.clone(), amount: 100 }); }>
                                            "+100 credits"
                                        </button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <details>
                <summary>"Add a member"</summary>
                <ActionForm action=add attr:class="provider-form">
                    <label>"E-mail" <input type="email" name="email" required /></label>
                    <label>"Password (at least 10 characters)" <input type="password" name="password" required minlength="10" autocomplete="new-password" /></label>
                    <label>
                        "Role"
                        <select name="role">
                            <option value="viewer">"Viewer — reads everything"</option>
                            <option value="developer">"Developer — creates agents and tasks"</option>
                            <option value="admin">"Admin — manages everything"</option>
                        </select>
                    </label>
                    <button class="button" type="submit">"Add member"</button>
                </ActionForm>
            </details>
        </section>
    }
}
