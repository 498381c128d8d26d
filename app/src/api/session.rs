//! Signing in and out, first-run setup and the navigation bar's session.

use leptos::prelude::*;

use crate::model::AppError;
use wire::session::SessionInfo;

/// The signed-in user, or `None`.
#[server(prefix = "/api", endpoint = "session")]
pub async fn get_session() -> Result<Option<SessionInfo>, AppError> {
    let cx = crate::ssr::context()?;
    let Some(who) = crate::ssr::optional_principal().await? else {
        return Ok(None);
    };
    Ok(Some(engine::store::sessions::info(&cx.store, &who).await?))
}

/// Signs in with e-mail and password and sets the session cookie.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let client = crate::ssr::client_info().await;
    let (token, who) =
        engine::store::sessions::login(&cx.store, &email, &password, &client).await?;
    crate::ssr::set_cookie(&engine::auth::web::set_cookie(&token, cx.cookie_secure));
    crate::ssr::audit(
        &who,
        "session.login",
        format!("user:{}", who.user_id),
        serde_json::json!({}),
    )
    .await;
    Ok(())
}

/// Signs out: ends the session and clears the cookie.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal_for_write().await?;
    let headers: http::HeaderMap = leptos_axum::extract()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if let Some(token) = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(engine::auth::web::session_from_cookie_header)
    {
        engine::store::sessions::logout(&cx.store, &token).await?;
    }
    crate::ssr::set_cookie(&engine::auth::web::clear_cookie(cx.cookie_secure));
    crate::ssr::audit(
        &who,
        "session.logout",
        format!("user:{}", who.user_id),
        serde_json::json!({}),
    )
    .await;
    Ok(())
}

/// Whether the one-time setup is still open (no admin exists yet).
#[server(prefix = "/api", endpoint = "setup_open")]
pub async fn setup_open() -> Result<bool, AppError> {
    let cx = crate::ssr::context()?;
    Ok(!engine::store::users::admin_exists(cx.store.pool()).await?)
}

/// First run: creates the first admin in the default workspace and signs them in. Refused
/// once an admin exists.
#[server(prefix = "/api", endpoint = "setup")]
pub async fn setup_admin(email: String, password: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let mut tx = cx.store.begin().await?;
    if engine::store::users::admin_exists(&mut *tx).await? {
        return Err(AppError::Denied(
            "setup is closed: an admin already exists".into(),
        ));
    }
    let ws = engine::store::workspaces::first(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Internal("no workspace to set up".into()))?;
    let member = engine::store::users::create(
        &mut tx,
        &ws.id,
        &email,
        Some(&password),
        engine::domain::MemberRole::Admin,
    )
    .await?;
    tx.commit().await.map_err(engine::Error::from)?;
    let client = crate::ssr::client_info().await;
    let (token, who) = engine::store::sessions::start(&cx.store, &member.id, &client).await?;
    crate::ssr::set_cookie(&engine::auth::web::set_cookie(&token, cx.cookie_secure));
    crate::ssr::audit(
        &who,
        "setup.admin_created",
        format!("user:{}", who.user_id),
        serde_json::json!({ "email": who.email }),
    )
    .await;
    Ok(())
}

/// Whether sign-in links can be e-mailed (the sign-in page offers them only then).
#[server(prefix = "/api", endpoint = "mail_enabled")]
pub async fn mail_enabled() -> Result<bool, AppError> {
    Ok(crate::ssr::context()?.mail_enabled)
}

/// E-mails a one-time sign-in link; answers the same for unknown e-mails.
#[server(prefix = "/api", endpoint = "magic_link")]
pub async fn request_magic_link(email: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    if !cx.mail_enabled {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
        }
        return Err(AppError::Invalid(
            crate::model::EMAIL_NOT_CONFIGURED.to_owned(),
        ));
    }
    if let Some(token) = engine::store::sessions::create_magic_link(&cx.store, &email).await? {
        (cx.send_magic_link)(&email, &token);
    }
    Ok(())
}
