//! Settings → Gateway: where agents running elsewhere point their OpenAI SDK (`base_url`), and
//! the routes from the model names they send to the workspace's providers, with a fallback.
//! The same engine actions as `/api/v1/gateway/routes`.

use leptos::prelude::*;

use crate::api::gateway::{
    GatewayView, SetGatewayCredits, delete_gateway_route, get_gateway, save_gateway_route,
};
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{Shape, loaded};
use wire::gateway::GatewayRoute;
use wire::providers::Provider;

/// What a save sends: model, provider, upstream model, fallback provider, fallback model.
type Draft = (String, String, String, String, String);

/// The Gateway card of the Settings page.
#[component]
pub fn GatewayCard() -> impl IntoView {
    let toasts = use_toasts();
    let show = move |kind: ToastKind, text: String| {
        if let Some(t) = toasts {
            t.show(kind, text);
        }
    };
    let save = Action::new(|d: &Draft| {
        let d = d.clone();
        async move { save_gateway_route(d.0, d.1, d.2, d.3, d.4).await }
    });
    let remove = Action::new(|model: &String| {
        let model = model.clone();
        async move { delete_gateway_route(model).await }
    });
    let credits = ServerAction::<SetGatewayCredits>::new();
    let data = Resource::new(
        move || {
            (
                save.version().get(),
                remove.version().get(),
                credits.version().get(),
            )
        },
        |_| get_gateway(),
    );
    Effect::new(move |_| match credits.value().get() {
        Some(Ok(())) => show(ToastKind::Success, "Credits per request saved".to_owned()),
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => show(ToastKind::Success, "Route saved".to_owned()),
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(())) => show(ToastKind::Success, "Route deleted".to_owned()),
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    // The address as the browser sees it: rendered by the server from the request's own
    // address (so the text does not grow and re-wrap once hydrated) and checked against the
    // browser's once hydrated (a proxy may rewrite what the server saw).
    let url = RwSignal::new(base_url());
    Effect::new(move |_| url.set(base_url()));
    view! {
        <section class="card" aria-labelledby="gateway-title" data-testid="gateway-card">
            <h2 id="gateway-title">"Gateway"</h2>
            <p class="muted">
                "Agents that run elsewhere keep their OpenAI SDK and change only its base URL to "
                <code data-testid="gateway-base-url">{move || url.get()}</code>
                " (Anthropic's SDK: the same address without " <code>"/v1"</code> "), with a Fleetdeck API key. Each call is recorded with its cost, counts in analytics and budgets like your own agents', and can name its agent, session and task in "
                <code>"x-fleetdeck-agent"</code> ", " <code>"x-fleetdeck-session"</code> " and " <code>"x-fleetdeck-task"</code> " headers."
            </p>
            <p class="muted">
                "OpenTelemetry exporters send traces to "
                <code data-testid="otlp-url">{move || format!("{}/traces", url.get())}</code>
                " (protobuf or JSON, the key in an " <code>"Authorization: Bearer"</code> " header): they appear under "
                <a href="/traces">"Traces"</a> "."
            </p>
            {loaded(data, &[Shape::Rows(3)], move |v| view! { <Routes view=v save remove credits /> }.into_any())}
        </section>
    }
}

/// This server's `/v1` as the browser sees it (or, rendering on the server, as the request
/// addressed it).
fn base_url() -> String {
    #[cfg(feature = "hydrate")]
    if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
        return format!("{origin}/v1");
    }
    #[cfg(feature = "ssr")]
    if let Some(origin) = crate::ssr::request_origin() {
        return format!("{origin}/v1");
    }
    "/v1".to_owned()
}

#[component]
fn Routes(
    view: GatewayView,
    save: Action<Draft, Result<(), crate::model::AppError>>,
    remove: Action<String, Result<(), crate::model::AppError>>,
    credits: ServerAction<SetGatewayCredits>,
) -> impl IntoView {
    let GatewayView {
        routes,
        providers,
        can_edit,
        credits_per_call,
    } = view;
    let per_call = if credits_per_call == 0 {
        "Requests through the gateway take no credits.".to_owned()
    } else {
        format!(
            "Each request takes {credits_per_call} credit(s) from the key owner's balance (given back when no provider answers)."
        )
    };
    let names = StoredValue::new(providers.clone());
    let provider_name = move |id: &str| {
        names.with_value(|ps| {
            ps.iter()
                .find(|p| p.id == id)
                .map_or_else(|| "a deleted provider".to_owned(), |p| p.name.clone())
        })
    };
    let list = if routes.is_empty() {
        view! { <p class="muted small" data-testid="gateway-empty">"No routes yet: a request for a model without a route is answered 404."</p> }.into_any()
    } else {
        view! {
            <ul class="provider-list" data-testid="gateway-routes">
                {routes
                    .into_iter()
                    .map(|r: GatewayRoute| {
                        let path = r
                            .targets
                            .iter()
                            .map(|t| format!("{} · {}", provider_name(&t.provider_id), t.model))
                            .collect::<Vec<_>>()
                            .join("  →  then  ");
                        let model = r.model.clone();
                        view! {
                            <li class="provider-row" data-testid="gateway-route">
                                <div>
                                    <code>{r.model.clone()}</code>
                                    <div class="muted small">{path}</div>
                                </div>
                                {can_edit.then(|| view! {
                                    <button class="button button-secondary button-small" type="button"
                                        aria-label=format!("Delete the route of {}", r.model)
                                        on:click=move |_| { remove.dispatch(model.clone()); }>"Delete"</button>
                                })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        {list}
        {(can_edit && providers.is_empty()).then(|| view! {
            <p class="muted small">"Add an OpenAI, OpenAI-compatible or Anthropic provider above to route to it."</p>
        })}
        {(can_edit && !providers.is_empty()).then(|| view! { <RouteForm providers save /> })}
        <p class="muted small" data-testid="gateway-credits">{per_call}</p>
        {can_edit.then(|| view! {
            <ActionForm action=credits attr:class="inline-form">
                <label>
                    "Credits per request"
                    <input name="credits" type="number" min="0" max="1000" step="1" required
                        value=credits_per_call.to_string() data-testid="gateway-credits-input" />
                </label>
                <button class="button button-secondary" type="submit" data-testid="gateway-credits-save">"Save"</button>
            </ActionForm>
        })}
    }
    .into_any()
}

#[component]
fn RouteForm(
    providers: Vec<Provider>,
    save: Action<Draft, Result<(), crate::model::AppError>>,
) -> impl IntoView {
    let first = providers.first().map(|p| p.id.clone()).unwrap_or_default();
    let (model, provider, target, fallback, fallback_model) = (
        RwSignal::new(String::new()),
        RwSignal::new(first),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let options = |with_none: bool| {
        let none = with_none.then(|| view! { <option value="">"No fallback"</option> });
        let rest = providers
            .iter()
            .map(|p| view! { <option value=p.id.clone()>{p.name.clone()}</option> })
            .collect_view();
        view! { {none} {rest} }
    };
    view! {
        <form class="inline-form gateway-form" on:submit=move |ev| {
            ev.prevent_default();
            save.dispatch((
                model.get_untracked(),
                provider.get_untracked(),
                target.get_untracked(),
                fallback.get_untracked(),
                fallback_model.get_untracked(),
            ));
        }>
            <label>
                "Model clients send"
                <input data-testid="route-model" placeholder="e.g. gpt-4o or fast" maxlength="200"
                    prop:value=move || model.get() on:input=move |ev| model.set(event_target_value(&ev)) />
            </label>
            <label>
                "Provider"
                <select data-testid="route-provider" on:change=move |ev| provider.set(event_target_value(&ev))>{options(false)}</select>
            </label>
            <label>
                "Its model"
                <input data-testid="route-target" placeholder="as the provider spells it" maxlength="200"
                    prop:value=move || target.get() on:input=move |ev| target.set(event_target_value(&ev)) />
            </label>
            <label>
                "Fallback provider"
                <select data-testid="route-fallback" on:change=move |ev| fallback.set(event_target_value(&ev))>{options(true)}</select>
            </label>
            <label>
                "Fallback model"
                <input data-testid="route-fallback-model" maxlength="200"
                    prop:value=move || fallback_model.get() on:input=move |ev| fallback_model.set(event_target_value(&ev)) />
            </label>
            <button class="button" type="submit" data-testid="route-save"
                disabled=move || model.get().trim().is_empty() || target.get().trim().is_empty() || save.pending().get()>
                "Save route"
            </button>
        </form>
    }
}
