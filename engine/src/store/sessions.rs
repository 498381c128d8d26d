//! Browser sessions and magic links: random tokens stored only as digests.

use crate::auth::tokens::{digest, new_token};
use crate::auth::{AuthMethod, Principal, password};
use crate::domain::MemberRole;
use crate::store::users;
use crate::{Error, Result, Store, now_ms};

/// How long a session lasts: 7 days.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3_600_000;
/// How long a magic link works: 15 minutes.
pub const MAGIC_LINK_TTL_MS: i64 = 15 * 60_000;

/// Where a request came from, for sessions and the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer address.
    pub ip: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// The hash of a random password, verified against when the e-mail is unknown so that a wrong
/// e-mail costs as much time as a wrong password (no account enumeration by timing).
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| password::hash("an unguessable dummy password").unwrap_or_default())
        .clone()
}

/// Signs in with e-mail and password; the same error for an unknown e-mail and a wrong
/// password. Returns the new session token and who it belongs to.
#[tracing::instrument(skip_all)]
pub async fn login(
    store: &Store,
    email: &str,
    password_text: &str,
    client: &ClientInfo,
) -> Result<(String, Principal)> {
    let wrong = || Error::Unauthorized("wrong e-mail or password".into());
    let found = users::credentials(store.pool(), email).await?;
    let (user_id, hash) = match found {
        Some((id, Some(hash))) => (id, hash),
        _ => {
            let _ = password::verify_blocking(password_text.to_owned(), dummy_hash()).await;
            return Err(wrong());
        }
    };
    if !password::verify_blocking(password_text.to_owned(), hash).await {
        return Err(wrong());
    }
    start(store, &user_id, client).await
}

/// Opens a session for a user who has proved who they are.
pub async fn start(
    store: &Store,
    user_id: &str,
    client: &ClientInfo,
) -> Result<(String, Principal)> {
    let (workspace_id, _) = users::membership(store.pool(), user_id)
        .await?
        .ok_or_else(|| Error::Unauthorized("this account belongs to no workspace".into()))?;
    let token = new_token("fds_")?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, workspace_id, created_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(digest(&token))
    .bind(user_id)
    .bind(&workspace_id)
    .bind(now)
    .bind(now + SESSION_TTL_MS)
    .bind(&client.ip)
    .bind(client.user_agent.as_deref().map(|ua| ua.chars().take(512).collect::<String>()))
    .execute(store.writer())
    .await?;
    let principal = resolve(store, &token)
        .await?
        .ok_or_else(|| Error::Unauthorized("the new session could not be read".into()))?;
    Ok((token, principal))
}

/// Who a session token belongs to, if it is valid and unexpired.
pub async fn resolve(store: &Store, token: &str) -> Result<Option<Principal>> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.email, s.workspace_id, m.role FROM sessions s \
         JOIN users u ON u.id = s.user_id \
         JOIN memberships m ON m.user_id = s.user_id AND m.workspace_id = s.workspace_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.is_active = 1",
    )
    .bind(digest(token))
    .bind(now_ms())
    .fetch_optional(store.pool())
    .await?;
    row.map(|(user_id, email, workspace_id, role)| {
        Ok(Principal {
            user_id,
            email,
            workspace_id,
            role: MemberRole::parse(&role)?,
            method: AuthMethod::Session,
        })
    })
    .transpose()
}

/// Ends one session.
pub async fn logout(store: &Store, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(digest(token))
        .execute(store.writer())
        .await?;
    Ok(())
}

/// Creates a one-time sign-in link token for a user, if the e-mail is known. Unknown e-mails
/// yield `None` (the caller answers the same either way).
pub async fn create_magic_link(store: &Store, email: &str) -> Result<Option<String>> {
    let Some((user_id, _)) = users::credentials(store.pool(), email).await? else {
        return Ok(None);
    };
    let token = new_token("fdm_")?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO magic_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(digest(&token))
    .bind(&user_id)
    .bind(now)
    .bind(now + MAGIC_LINK_TTL_MS)
    .execute(store.writer())
    .await?;
    Ok(Some(token))
}

/// Redeems a magic link (once) into a session.
pub async fn redeem_magic_link(
    store: &Store,
    token: &str,
    client: &ClientInfo,
) -> Result<(String, Principal)> {
    let now = now_ms();
    let row: Option<(String,)> = sqlx::query_as(
        "UPDATE magic_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
         AND expires_at > $1 RETURNING user_id",
    )
    .bind(now)
    .bind(digest(token))
    .fetch_optional(store.writer())
    .await?;
    let (user_id,) = row.ok_or_else(|| {
        Error::Unauthorized("this sign-in link is invalid, used or expired".into())
    })?;
    start(store, &user_id, client).await
}

/// Who is signed in, where, and their credits: what `GET /api/auth/session` and the pages'
/// navigation bar show.
pub async fn info(store: &Store, who: &Principal) -> Result<wire::session::SessionInfo> {
    let credits = super::credits::balance(store, &who.user_id).await?;
    let ws = super::workspaces::by_id(store.pool(), &who.workspace_id)
        .await?
        .ok_or_else(|| crate::Error::not_found("workspace", &who.workspace_id))?;
    Ok(wire::session::SessionInfo {
        user: wire::session::SessionUser {
            id: who.user_id.clone(),
            email: who.email.clone(),
        },
        workspace: wire::session::SessionWorkspace {
            id: ws.id,
            name: ws.name,
        },
        role: who.role.as_str().to_owned(),
        credits,
    })
}
