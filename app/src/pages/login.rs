//! Sign-in (`/login`) and first-run setup (`/setup`) pages.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::session::{Login, RequestMagicLink, SetupAdmin, mail_enabled};
use crate::model::AppError;

/// After a successful sign-in: a full page load, so every part of the app sees the session.
fn go_home() {
    #[cfg(feature = "hydrate")]
    crate::browser::go_to("/");
}

/// `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let magic = ServerAction::<RequestMagicLink>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            go_home();
        }
    });
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let magic_sent = move || matches!(magic.value().get(), Some(Ok(())));
    let mail = Resource::new(|| (), |_| mail_enabled());
    view! {
        <Title text="Sign in" />
        <div class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <img src="/favicon.svg" alt="" width="40" height="40" />
                    <h1>"Sign in to Fleetdeck"</h1>
                </div>
                <ActionForm action=login attr:class="auth-form">
                    <label>
                        "E-mail"
                        <input type="email" name="email" required autocomplete="username" data-testid="login-email" />
                    </label>
                    <label>
                        "Password"
                        <input type="password" name="password" required autocomplete="current-password" data-testid="login-password" />
                    </label>
                    {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <button class="button" type="submit" data-testid="login-submit" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <details class="magic">
                    <summary>"Sign in with an e-mailed link instead"</summary>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            if mail.await.unwrap_or(false) {
                                view! {
                                    <ActionForm action=magic attr:class="auth-form">
                                        <label>
                                            "E-mail"
                                            <input type="email" name="email" required />
                                        </label>
                                        <button class="button button-secondary" type="submit">"Send me a link"</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! {
                                    <p class="muted" data-testid="mail-not-configured">
                                        "E-mail is not configured on this server, so sign-in links cannot be sent. An admin can create one on the server's terminal with "
                                        <code>"fleetdeck user magic-link --email you@example.com"</code>"."
                                    </p>
                                }.into_any()
                            }
                        })}
                    </Suspense>
                    {move || magic_sent().then(|| view! {
                        <p class="muted" role="status">
                            "If the address belongs to an account, a sign-in link is on its way."
                        </p>
                    })}
                </details>
            </div>
        </div>
    }
}

/// `/setup`: open only while no admin exists.
#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<SetupAdmin>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = setup.value().get() {
            go_home();
        }
    });
    let error = move || match setup.value().get() {
        Some(Err(AppError::Invalid(e))) | Some(Err(AppError::Denied(e))) => Some(e),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <Title text="Set up" />
        <div class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <img src="/favicon.svg" alt="" width="40" height="40" />
                    <h1>"Welcome to Fleetdeck"</h1>
                </div>
                <p class="muted">
                    "Create the first admin account. This page closes as soon as an admin exists."
                </p>
                <ActionForm action=setup attr:class="auth-form">
                    <label>
                        "E-mail"
                        <input type="email" name="email" required autocomplete="username" data-testid="setup-email" />
                    </label>
                    <label>
                        "Password (at least 10 characters)"
                        <input type="password" name="password" required minlength="10" autocomplete="new-password" data-testid="setup-password" />
                    </label>
                    {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <button class="button" type="submit" data-testid="setup-submit" disabled=move || setup.pending().get()>
                        "Create admin and sign in"
                    </button>
                </ActionForm>
            </div>
        </div>
    }
}
