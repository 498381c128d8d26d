//! Users and their workspace memberships.

use sqlx::{Any, AnyConnection, Executor};

use crate::auth::password;
use crate::domain::MemberRole;
use crate::{Error, Result, new_id, now_ms};

/// Credits a new user starts with.
pub const DEFAULT_CREDITS: i64 = 100;

pub use wire::access::Member;

/// Normalises and checks an e-mail address.
pub fn parse_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(Error::invalid("email", "must be an e-mail address"))
    }
}

/// Creates a user (with an optional password) as a member of `workspace_id`.
#[tracing::instrument(skip(conn, password))]
pub async fn create(
    conn: &mut AnyConnection,
    workspace_id: &str,
    email: &str,
    password: Option<&str>,
    role: MemberRole,
) -> Result<Member> {
    let email = parse_email(email)?;
    let hash = match password {
        Some(pw) => {
            password::validate(pw)?;
            Some(password::hash_blocking(pw.to_owned()).await?)
        }
        None => None,
    };
    let id = new_id();
    let now = now_ms();
    let display_name = email.split('@').next().unwrap_or_default().to_owned();
    sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, credits, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(&email)
    .bind(&display_name)
    .bind(hash)
    .bind(DEFAULT_CREDITS)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| match Error::from(e) {
        Error::Conflict(_) => Error::Conflict(format!("a user with e-mail {email} already exists")),
        other => other,
    })?;
    sqlx::query(
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(workspace_id)
    .bind(&id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(Member {
        id,
        email,
        display_name,
        role: role.as_str().to_owned(),
        credits: DEFAULT_CREDITS,
        created_at: now,
    })
}

/// A user's id and password hash by e-mail, for sign-in.
pub async fn credentials<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
) -> Result<Option<(String, Option<String>)>> {
    Ok(
        sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND is_active = 1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(db)
            .await?,
    )
}

/// The user's first workspace membership: (workspace id, role).
pub async fn membership<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: &str,
) -> Result<Option<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT workspace_id, role FROM memberships WHERE user_id = $1 ORDER BY created_at LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// The members of a workspace.
pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> Result<Vec<Member>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.email, u.display_name, m.role, u.credits, u.created_at \
         FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE m.workspace_id = $1 ORDER BY u.created_at",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?)
}

/// One member of a workspace, by e-mail.
pub async fn member_by_email<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    email: &str,
) -> Result<Option<Member>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.email, u.display_name, m.role, u.credits, u.created_at \
         FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE m.workspace_id = $1 AND u.email = $2",
    )
    .bind(workspace_id)
    .bind(email.trim().to_lowercase())
    .fetch_optional(db)
    .await?)
}

/// Whether any admin exists (the one-time setup page is open only while none does).
pub async fn admin_exists<'e>(db: impl Executor<'e, Database = Any>) -> Result<bool> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE role = 'admin'")
        .fetch_one(db)
        .await?;
    Ok(n > 0)
}
