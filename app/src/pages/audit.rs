//! The audit log (admins): every entry, newest first, 200 at a time and more as the list
//! scrolls (keyset pages, so a log of 100,000 entries reads as smoothly as one of 100),
//! filtered by actor and action in the URL, with the hash chain's check beside it — asked
//! apart, since it reads the whole log again, so the entries show at once.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit::{AuditQuery, check_audit, get_audit};
use crate::components::empty_state::EmptyState;
use crate::components::load_error::LoadError;
use crate::components::more_pages::{LoadMore, MorePages};
use crate::pages::{PageHeader, Shape, loaded};
use wire::Page;
use wire::audit::Entry;
use wire::format::timestamp;

/// `/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        let get = |name: &str| p.get(name).unwrap_or_default();
        AuditQuery {
            actor: get("actor"),
            action: get("action"),
            cursor: get("cursor"),
        }
    });
    let data = Resource::new(move || query.get(), get_audit);
    let more = MorePages::new(query.get_untracked());
    // A new filter forgets the older pages (not on the first run: the first page has just set
    // where they continue from).
    Effect::watch(
        move || query.get(),
        move |q, _, _| more.reset(q.clone()),
        false,
    );
    view! {
        <Title text="Audit log" />
        <PageHeader title="Audit log" subtitle="Every change, who made it and from where; tamper-evident." />
        <ChainStatus />
        {move || view! { <AuditFilters query=query.get() /> }}
        {loaded(data, &[Shape::Table(10)], move |page| view! { <AuditTable page query=query.get_untracked() more /> })}
    }
}

/// Whether the hash chain verifies, asked by the browser once the page is up (a local
/// resource: the server does not hold the page back for it — at 100,000 entries the check
/// takes seconds).
#[component]
fn ChainStatus() -> impl IntoView {
    let check = LocalResource::new(check_audit);
    let retry = Callback::new(move |_| check.refetch());
    view! {
        <Transition fallback=|| view! {
            <p class="chain chain-checking" role="status">"Verifying the hash chain…"</p>
        }>
            {move || Suspend::new(async move {
                match check.await {
                    Ok(c) if c.intact => view! {
                        <p class="chain chain-ok" data-testid="audit-intact">
                            {format!(
                                "✓ Hash chain verified over {} entries: no entry was changed or removed.",
                                c.verification.entries,
                            )}
                        </p>
                    }.into_any(),
                    Ok(c) => view! {
                        <p class="chain chain-broken" role="alert">
                            {match c.verification.first_broken_seq {
                                Some(seq) => format!("✗ The hash chain is broken at entry #{seq}: the log was tampered with."),
                                None => "✗ The hash chain is broken: the log was tampered with.".to_owned(),
                            }}
                        </p>
                    }.into_any(),
                    Err(error) => view! { <LoadError error retry /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The filters, as a plain GET form (the URL is the state).
#[component]
fn AuditFilters(query: AuditQuery) -> impl IntoView {
    let filtered = query.is_filtered();
    view! {
        <form class="list-bar audit-filters" method="get" action="/audit" role="search" data-testid="audit-filters">
            <h2 class="section-title">"Entries"</h2>
            <label class="field-inline">
                <span>"Actor"</span>
                <input
                    type="search"
                    name="actor"
                    value=query.actor.clone()
                    placeholder="e-mail, system or cli"
                    data-testid="audit-actor"
                />
            </label>
            <label class="field-inline">
                <span>"Action"</span>
                <input
                    type="search"
                    name="action"
                    value=query.action.clone()
                    placeholder="e.g. provider.create"
                    data-testid="audit-action"
                />
            </label>
            <button class="button button-secondary" type="submit">"Filter"</button>
            {filtered.then(|| view! {
                <a class="button button-secondary" href="/audit" data-testid="audit-clear">"Clear"</a>
            })}
        </form>
    }
}

#[component]
fn AuditTable(page: Page<Entry>, query: AuditQuery, more: MorePages<AuditQuery>) -> impl IntoView {
    if page.items.is_empty() {
        let (title, message) = if query.is_filtered() {
            (
                "No entry matches",
                "No entry has this actor and action (both must match exactly). Click an actor or an action in the log to filter by it.",
            )
        } else {
            (
                "Nothing recorded yet",
                "Sign-ins and every change to providers, settings, users, keys and credits appear here.",
            )
        };
        return view! { <EmptyState title=title message=message /> }.into_any();
    }
    more.continue_from(&page);
    let newest = (!query.cursor.is_empty()).then(|| {
        AuditQuery {
            cursor: String::new(),
            ..query.clone()
        }
        .url()
    });
    let rows = page.items;
    view! {
        <div class="card table-card">
            <div class="table-scroll" tabindex="0">
                <table data-testid="audit-table">
                    <thead>
                        <tr>
                            <th scope="col" class="num">"#"</th>
                            <th scope="col">"When"</th>
                            <th scope="col">"Who"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col">"Target"</th>
                            <th scope="col">"IP"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|entry| view! { <AuditRow entry query=query.clone() /> }).collect_view()}
                        <For each=move || more.rows.get() key=|e| e.seq let:entry>
                            <AuditRow entry query=more.query.get_value() />
                        </For>
                    </tbody>
                </table>
            </div>
        </div>
        <LoadMore more newest noun="entries" />
    }
    .into_any()
}

/// One entry; its actor and action link to the log filtered by them.
#[component]
fn AuditRow(entry: Entry, query: AuditQuery) -> impl IntoView {
    let by_actor = AuditQuery {
        actor: entry.actor.clone(),
        action: query.action.clone(),
        cursor: String::new(),
    }
    .url();
    let by_action = AuditQuery {
        actor: query.actor.clone(),
        action: entry.action.clone(),
        cursor: String::new(),
    }
    .url();
    view! {
        <tr>
            <td class="num">{entry.seq}</td>
            <td>{timestamp(entry.created_at)}</td>
            <td><a href=by_actor title="Only this actor's entries">{entry.actor}</a></td>
            <td><a href=by_action title="Only this action's entries"><code>{entry.action}</code></a></td>
            <td>{entry.target}</td>
            <td>{entry.ip.unwrap_or_default()}</td>
        </tr>
    }
    .into_any()
}
