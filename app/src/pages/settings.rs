//! Settings: workspace defaults and the price table.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::providers::{AddProvider, DeleteProvider, TestProvider, list_providers};
use crate::api::settings::{SaveDefaults, SetPrice, get_settings};
use crate::components::toast::{ToastKind, use_toasts};
use crate::model::AppError;
use crate::pages::access::{ApiKeysCard, MembersCard};
use crate::pages::{PageHeader, Shape, Skeleton, loaded};
use wire::format::{price, provider_kind_name, tokens_short};
use wire::settings::SettingsOverview;

/// `/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_settings());
    view! {
        <Title text="Settings" />
        <PageHeader title="Settings" subtitle="Providers, access, defaults and model prices." />
        <ProvidersCard />
        <crate::pages::gateway_settings::GatewayCard />
        <crate::pages::task_settings::TaskSettingsCard />
        <ApiKeysCard />
        <MembersCard />
        {loaded(data, &[Shape::Panels(2)], |view| view! { <Settings view /> })}
    }
}

#[component]
fn Settings(view: SettingsOverview) -> impl IntoView {
    let not_set = || "Not set".to_owned();
    let default_provider = view.default_provider().cloned();
    let editor = view.can_edit.then(|| {
        view! {
            <DefaultsForm
                providers=view.providers.iter().map(|p| (p.id.clone(), p.name.clone())).collect()
                provider_id=view.defaults.provider_id.clone().unwrap_or_default()
                model=view.defaults.model.clone().unwrap_or_default()
                temperature=view.defaults.temperature.unwrap_or(0.7)
            />
        }
    });
    let price_editor = view.can_edit.then(|| view! { <PriceForm /> });
    view! {
        <section class="card">
            <h2>"Defaults"</h2>
            <p class="muted">"Used by agents and runs that do not choose their own."</p>
            <dl class="settings-list">
                <div>
                    <dt>"Provider"</dt>
                    <dd data-testid="default-provider">
                        {default_provider.as_ref().map(|p| p.name.clone()).unwrap_or_else(not_set)}
                        {default_provider
                            .is_some_and(|p| p.simulated())
                            .then(|| {
                                view! {
                                    <span
                                        class="badge badge-sim"
                                        title="The built-in offline simulator"
                                    >
                                        "Simulated"
                                    </span>
                                }
                            })}
                    </dd>
                </div>
                <div>
                    <dt>"Model"</dt>
                    <dd>{view.defaults.model.unwrap_or_else(not_set)}</dd>
                </div>
                <div>
                    <dt>"Temperature"</dt>
                    <dd>
                        {view
                            .defaults
                            .temperature
                            .map(|t| format!("{t:.1}"))
                            .unwrap_or_else(not_set)}
                    </dd>
                </div>
            </dl>
            {editor}
        </section>
        <section class="card table-card">
            <h2>"Prices per million tokens"</h2>
            <div class="table-scroll" tabindex="0">
                <table data-testid="price-table">
                    <thead>
                        <tr>
                            <th scope="col">"Provider"</th>
                            <th scope="col">"Model"</th>
                            <th scope="col" class="num">"Input"</th>
                            <th scope="col" class="num">"Cached input"</th>
                            <th scope="col" class="num">"Cache write"</th>
                            <th scope="col" class="num">"Output"</th>
                            <th scope="col" class="num">"Context"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .prices
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <tr>
                                        <td>{provider_kind_name(&p.provider_kind).to_owned()}</td>
                                        <td>{p.model}</td>
                                        <td class="num">{price(p.input_per_mtok_micros)}</td>
                                        <td class="num">{price(p.cached_input_per_mtok_micros)}</td>
                                        <td class="num">
                                            {match p.cache_write_per_mtok_micros {
                                                Some(m) => price(m),
                                                None => "as input".to_owned(),
                                            }}
                                        </td>
                                        <td class="num">{price(p.output_per_mtok_micros)}</td>
                                        <td class="num">{tokens_short(p.context_window)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {price_editor}
        </section>
    }
}

/// Reloads the Settings page after a successful save, so every card shows the new values.
fn reload_on_success(result: Option<Result<(), AppError>>, success: &str) {
    let Some(result) = result else { return };
    if let Some(t) = use_toasts() {
        match &result {
            Ok(()) => t.show(ToastKind::Success, success),
            Err(e) => t.show(ToastKind::Error, e.to_string()),
        }
    }
    #[cfg(feature = "hydrate")]
    if result.is_ok() {
        crate::browser::go_to("/settings");
    }
}

#[component]
fn DefaultsForm(
    providers: Vec<(String, String)>,
    provider_id: String,
    model: String,
    temperature: f64,
) -> impl IntoView {
    let save = ServerAction::<SaveDefaults>::new();
    Effect::new(move |_| reload_on_success(save.value().get(), "Defaults saved"));
    view! {
        <details>
            <summary data-testid="edit-defaults">"Change the defaults"</summary>
            <ActionForm action=save attr:class="inline-form">
                <label>
                    "Provider"
                    <select name="provider_id" data-testid="default-provider-select">
                        {providers
                            .into_iter()
                            .map(|(id, name)| {
                                let selected = id == provider_id;
                                view! { <option value=id selected=selected>{name}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Model"
                    <input name="model" required value=model data-testid="default-model-input" />
                </label>
                <label>
                    "Temperature"
                    <input name="temperature" type="number" min="0" max="2" step="0.1" required value=temperature.to_string() />
                </label>
                <button class="button" type="submit" data-testid="defaults-submit">"Save defaults"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn PriceForm() -> impl IntoView {
    let set = ServerAction::<SetPrice>::new();
    Effect::new(move |_| reload_on_success(set.value().get(), "Price saved"));
    view! {
        <details>
            <summary data-testid="edit-prices">"Set a price"</summary>
            <p class="muted">"Dollars per million tokens. An existing provider and model is updated; a new one is added."</p>
            <ActionForm action=set attr:class="inline-form">
                <label>
                    "Provider"
                    <select name="provider_kind">
                        <option value="openai">"OpenAI"</option>
                        <option value="anthropic">"Anthropic"</option>
                        <option value="gemini">"Google Gemini"</option>
                        <option value="openai_compatible">"OpenAI-compatible"</option>
                        <option value="simulator">"Simulator"</option>
                    </select>
                </label>
                <label>"Model" <input name="model" required placeholder="gpt-4o" data-testid="price-model" /></label>
                <label>"Input $" <input name="input" required inputmode="decimal" placeholder="2.50" data-testid="price-input" /></label>
                <label>"Cached input $" <input name="cached_input" required inputmode="decimal" placeholder="1.25" data-testid="price-cached" /></label>
                <label>"Cache write $" <input name="cache_write" inputmode="decimal" placeholder="as input" /></label>
                <label>"Output $" <input name="output" required inputmode="decimal" placeholder="10.00" data-testid="price-output" /></label>
                <label>"Context (tokens)" <input name="context_window" inputmode="numeric" placeholder="128000" /></label>
                <button class="button" type="submit" data-testid="price-submit">"Save price"</button>
            </ActionForm>
        </details>
    }
}

/// Providers: the list (keys masked) and, for admins, add and delete.
#[component]
fn ProvidersCard() -> impl IntoView {
    let add = ServerAction::<AddProvider>::new();
    let remove = ServerAction::<DeleteProvider>::new();
    let test = ServerAction::<TestProvider>::new();
    let test_toasts = use_toasts();
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (test.value().get(), test_toasts) {
            match result {
                Ok(check) if check.ok => t.show(ToastKind::Success, check.summary()),
                Ok(check) => t.show(ToastKind::Error, check.summary()),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    let providers = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_providers(),
    );
    let toasts = use_toasts();
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (add.value().get(), toasts) {
            {
                match result {
                    Ok(()) => {
                        t.show(
                            ToastKind::Success,
                            "Provider added; its key is stored encrypted",
                        );
                        if let Some(form) = form.get() {
                            form.reset();
                        }
                    }
                    Err(e) => t.show(ToastKind::Error, e.to_string()),
                }
            }
        }
    });
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (remove.value().get(), toasts) {
            match result {
                Ok(()) => t.show(ToastKind::Success, "Provider deleted"),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Providers"</h2>
            <p class="muted">"API keys are encrypted at rest (AES-256-GCM); only their last four characters are ever shown."</p>
            <Transition fallback=|| view! { <Skeleton shapes=&[Shape::Rows(2)] /> }>
                {move || Suspend::new(async move {
                    match providers.await {
                        Ok(rows) => view! {
                            <ul class="provider-list" data-testid="provider-list">
                                {rows
                                    .into_iter()
                                    .map(|p| {
                                        let id = p.id.clone();
                                        let name = p.name.clone();
                                        let (simulated, key_hint) = (p.simulated(), p.key_hint());
                                        view! {
                                            <li class="provider-row" data-testid="provider-row">
                                                <div>
                                                    <strong>{p.name}</strong>
                                                    <span class="muted">{format!(" · {}", provider_kind_name(&p.kind))}</span>
                                                    {simulated.then(|| view! { <span class="badge badge-sim">"Simulated"</span> })}
                                                    {p.base_url.map(|u| view! { <div class="muted small">{u}</div> })}
                                                </div>
                                                <code class="key-hint" data-testid="key-hint">
                                                    {key_hint.unwrap_or_else(|| "no key".to_owned())}
                                                </code>
                                                <button
                                                    class="button button-secondary button-small"
                                                    type="button"
                                                    data-testid="test-provider"
                                                    aria-label=format!("Test the connection to {name}")
                                                    disabled=move || test.pending().get()
                                                    on:click={
                                                        let id = id.clone();
                                                        move |_| { test.dispatch(TestProvider { id: id.clone() }); }
                                                    }
                                                >
                                                    "Test"
                                                </button>
                                                <button
                                                    class="button button-secondary button-small"
                                                    type="button"
                                                    aria-label=format!("Delete provider {name}")
                                                    on:click=move |_| {
                                                        let confirmed = {
                                                            #[cfg(feature = "hydrate")]
                                                            {
                                                                crate::browser::confirm(&format!("Delete the provider {name}?"))
                                                            }
                                                            #[cfg(not(feature = "hydrate"))]
                                                            {
                                                                false
                                                            }
                                                        };
                                                        if confirmed {
                                                            remove.dispatch(DeleteProvider { id: id.clone() });
                                                        }
                                                    }
                                                >
                                                    "Delete"
                                                </button>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <details class="add-provider">
                <summary data-testid="add-provider-toggle">"Add a provider"</summary>
                <ActionForm action=add node_ref=form attr:class="provider-form">
                    <label>
                        "Name"
                        <input name="name" required maxlength="80" placeholder="OpenAI production" data-testid="provider-name" />
                    </label>
                    <label>
                        "Kind"
                        <select name="kind" data-testid="provider-kind">
                            <option value="openai">"OpenAI"</option>
                            <option value="anthropic">"Anthropic"</option>
                            <option value="gemini">"Google Gemini"</option>
                            <option value="openai_compatible">"OpenAI-compatible (Ollama, vLLM, …)"</option>
                            <option value="simulator">"Simulator (offline)"</option>
                        </select>
                    </label>
                    <label>
                        "Base URL (OpenAI-compatible only)"
                        <input name="base_url" type="url" placeholder="http://127.0.0.1:11434/v1" />
                    </label>
                    <label>
                        "API key"
                        <input name="api_key" type="password" autocomplete="off" data-testid="provider-key" />
                    </label>
                    <button class="button" type="submit" data-testid="provider-submit" disabled=move || add.pending().get()>
                        "Add provider"
                    </button>
                </ActionForm>
            </details>
        </section>
    }
}
