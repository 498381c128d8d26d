//! Notification channels: a webhook (Slack-, Discord-compatible or generic JSON, signed) or a
//! list of e-mail addresses. A webhook's URL (Slack's and Discord's are credentials) and its
//! signing key are sealed with the master key; only the URL's scheme and host are ever shown.
//! Sending is [`super::notify`]'s.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sqlx::AnyConnection;
use wire::alerts::{Channel, ChannelCreated, ChannelInput, Delivery};

use super::Severity;
use crate::actions::Caller;
use crate::auth::Principal;
use crate::auth::secrets::MasterKey;
use crate::auth::tokens::random_bytes;
use crate::domain::MemberRole;
use crate::{Error, Result, Store, new_id, now_ms};

const MAX_NAME: usize = 100;
const MAX_RECIPIENTS: usize = 20;

/// What a webhook channel keeps sealed.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Sealed {
    pub(super) url: String,
    pub(super) signing_secret: String,
}

pub(crate) fn seal_context(channel_id: &str) -> String {
    format!("notification_channel:{channel_id}")
}

/// The part of a URL safe to show: scheme and host.
fn display_url(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

/// Checks addresses loosely (`local@domain`, no spaces); the SMTP server has the last word.
pub(super) fn recipients(raw: &str) -> Result<Vec<String>> {
    let list: Vec<String> = raw
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() || list.len() > MAX_RECIPIENTS {
        return Err(Error::invalid(
            "target",
            format!("give 1 to {MAX_RECIPIENTS} e-mail addresses, separated by commas"),
        ));
    }
    for address in &list {
        let ok = address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && (domain.contains('.') || domain == "localhost")
        }) && !address.chars().any(char::is_whitespace)
            && address.len() <= 254;
        if !ok {
            return Err(Error::invalid(
                "target",
                format!("{address} is not an e-mail address"),
            ));
        }
    }
    Ok(list)
}

/// A checked channel: (name, kind, display target, format, minimum severity, enabled, the
/// webhook's URL if one).
struct Checked {
    name: String,
    kind: &'static str,
    target: String,
    format: String,
    min_severity: Severity,
    enabled: bool,
    url: Option<String>,
}

/// The name, minimum severity and on/off of a channel, checked.
fn check_common(input: &ChannelInput) -> Result<(String, Severity, bool)> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Error::invalid(
            "name",
            format!("must be 1 to {MAX_NAME} characters"),
        ));
    }
    let min_severity = Severity::parse(
        input.min_severity.as_deref().unwrap_or("warning"),
        "min_severity",
    )?;
    Ok((name, min_severity, input.enabled.unwrap_or(true)))
}

/// A webhook's body format (default `slack`); '' for e-mail.
fn check_format(kind: &str, format: Option<&str>) -> Result<String> {
    if kind != "webhook" {
        return Ok(String::new());
    }
    match format.unwrap_or("slack") {
        f @ ("slack" | "discord" | "generic") => Ok(f.to_owned()),
        _ => Err(Error::invalid(
            "format",
            "must be slack, discord or generic",
        )),
    }
}

fn check(input: &ChannelInput) -> Result<Checked> {
    let (name, min_severity, enabled) = check_common(input)?;
    let format = check_format(&input.kind, input.format.as_deref())?;
    match input.kind.as_str() {
        "webhook" => {
            let url = reqwest::Url::parse(input.target.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| Error::invalid("target", "must be an http or https URL"))?;
            Ok(Checked {
                name,
                kind: "webhook",
                target: display_url(&url),
                format,
                min_severity,
                enabled,
                url: Some(url.to_string()),
            })
        }
        "email" => Ok(Checked {
            name,
            kind: "email",
            target: recipients(&input.target)?.join(", "),
            format,
            min_severity,
            enabled,
            url: None,
        }),
        _ => Err(Error::invalid("kind", "must be webhook or email")),
    }
}

const CHANNEL_COLUMNS: &str = "id, name, kind, target, format, min_severity, enabled, created_at";
type ChannelRow = (String, String, String, String, String, String, i64, i64);

pub(super) const DELIVERY_COLUMNS: &str = "d.id, d.channel_id, d.alert_id, COALESCE(a.title, 'Test'), \
     d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at, d.created_at, \
     d.delivered_at";
pub(super) type DeliveryRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

pub(super) fn delivery_of(r: DeliveryRow) -> Delivery {
    Delivery {
        id: r.0,
        channel_id: r.1,
        alert_id: r.2,
        title: r.3,
        next_attempt_at: (r.4 == "pending").then_some(r.8),
        state: r.4,
        attempts: r.5,
        last_status: r.6,
        last_error: r.7,
        created_at: r.9,
        delivered_at: r.10,
    }
}

async fn channel_of(conn: &mut AnyConnection, r: ChannelRow) -> Result<Channel> {
    let last: Option<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries d LEFT JOIN alerts a ON a.id = d.alert_id \
         WHERE d.channel_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT 1"
    )))
    .bind(&r.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Channel {
        id: r.0,
        name: r.1,
        kind: r.2,
        target: r.3,
        format: r.4,
        min_severity: r.5,
        enabled: r.6 != 0,
        last_delivery: last.map(delivery_of),
        created_at: r.7,
    })
}

pub(super) async fn channel_row(
    conn: &mut AnyConnection,
    ws: &str,
    id: &str,
) -> Result<ChannelRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(ws)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found("channel", id))
}

fn named_conflict(e: sqlx::Error, name: &str) -> Error {
    match Error::from(e) {
        Error::Conflict(_) => Error::Conflict(format!("a channel named {name} already exists")),
        other => other,
    }
}

/// The workspace's channels, by name (admins: a channel's target is theirs to know).
pub async fn list(store: &Store, who: &Principal) -> Result<Vec<Channel>> {
    who.require(MemberRole::Admin)?;
    let mut conn = store.pool().acquire().await?;
    let rows: Vec<ChannelRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE workspace_id = $1 \
         ORDER BY name, id"
    )))
    .bind(&who.workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(channel_of(&mut conn, row).await?);
    }
    Ok(out)
}

/// Makes a channel (admins). A webhook gets a new signing secret, answered this once.
pub async fn create(
    store: &Store,
    master: &MasterKey,
    caller: Caller<'_>,
    input: &ChannelInput,
) -> Result<ChannelCreated> {
    caller.who.require(MemberRole::Admin)?;
    let checked = check(input)?;
    let ws = caller.who.workspace_id.as_str();
    let id = new_id();
    let now = now_ms();
    let (sealed, signing_secret) = match &checked.url {
        Some(url) => {
            let secret = format!("whsec_{}", URL_SAFE_NO_PAD.encode(random_bytes(32)?));
            let plain = serde_json::to_vec(&Sealed {
                url: url.clone(),
                signing_secret: secret.clone(),
            })
            .map_err(|e| Error::Config(format!("cannot seal a channel: {e}")))?;
            (
                STANDARD.encode(master.seal(&plain, &seal_context(&id))?),
                Some(secret),
            )
        }
        None => (String::new(), None),
    };
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO notification_channels (id, workspace_id, name, kind, target, format, \
         secret_sealed, min_severity, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(ws)
    .bind(&checked.name)
    .bind(checked.kind)
    .bind(&checked.target)
    .bind(&checked.format)
    .bind(&sealed)
    .bind(checked.min_severity.as_str())
    .bind(i64::from(checked.enabled))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| named_conflict(e, &checked.name))?;
    caller
        .audit(
            &mut tx,
            "channel.create",
            format!("channel:{id}"),
            json!({ "name": checked.name, "kind": checked.kind, "target": checked.target,
                    "min_severity": checked.min_severity.as_str() }),
        )
        .await?;
    let row = channel_row(&mut tx, ws, &id).await?;
    let channel = channel_of(&mut tx, row).await?;
    tx.commit().await?;
    Ok(ChannelCreated {
        channel,
        signing_secret,
    })
}

/// Changes a channel's name, format, minimum severity or on/off (admins). Its target and
/// signing secret stay: to point elsewhere, make a new channel.
pub async fn update(
    store: &Store,
    caller: Caller<'_>,
    id: &str,
    input: &ChannelInput,
) -> Result<Channel> {
    caller.who.require(MemberRole::Admin)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    let current = channel_row(&mut tx, ws, id).await?;
    let target = input.target.trim();
    if !target.is_empty() && target != current.3 {
        return Err(Error::invalid(
            "target",
            "cannot be changed: make a new channel (a webhook's signing secret goes with its URL)",
        ));
    }
    let (name, min_severity, enabled) = check_common(input)?;
    let format = check_format(&current.2, input.format.as_deref().or(Some(&current.4)))?;
    sqlx::query(
        "UPDATE notification_channels SET name = $3, format = $4, min_severity = $5, \
         enabled = $6, updated_at = $7 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ws)
    .bind(id)
    .bind(&name)
    .bind(&format)
    .bind(min_severity.as_str())
    .bind(i64::from(enabled))
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .map_err(|e| named_conflict(e, &name))?;
    caller
        .audit(
            &mut tx,
            "channel.update",
            format!("channel:{id}"),
            json!({ "name": name, "format": format,
                    "min_severity": min_severity.as_str(), "enabled": enabled }),
        )
        .await?;
    let row = channel_row(&mut tx, ws, id).await?;
    let channel = channel_of(&mut tx, row).await?;
    tx.commit().await?;
    Ok(channel)
}

/// Deletes a channel and its delivery log (admins).
pub async fn delete(store: &Store, caller: Caller<'_>, id: &str) -> Result<()> {
    caller.who.require(MemberRole::Admin)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    let row = channel_row(&mut tx, ws, id).await?;
    sqlx::query("DELETE FROM alert_deliveries WHERE channel_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM notification_channels WHERE workspace_id = $1 AND id = $2")
        .bind(ws)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    caller
        .audit(
            &mut tx,
            "channel.delete",
            format!("channel:{id}"),
            json!({ "name": row.1, "kind": row.2 }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A channel's deliveries, newest first (at most 50; admins).
pub async fn deliveries(store: &Store, who: &Principal, channel_id: &str) -> Result<Vec<Delivery>> {
    who.require(MemberRole::Admin)?;
    let mut conn = store.pool().acquire().await?;
    channel_row(&mut conn, &who.workspace_id, channel_id).await?;
    let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries d LEFT JOIN alerts a ON a.id = d.alert_id \
         WHERE d.channel_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT 50"
    )))
    .bind(channel_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(delivery_of).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_checked() {
        let mut input = ChannelInput {
            name: "Ops".into(),
            kind: "webhook".into(),
            target: "https://hooks.slack.com/services/T/B/secret".into(),
            ..ChannelInput::default()
        };
        let checked = check(&input).unwrap();
        assert_eq!(checked.target, "https://hooks.slack.com/…");
        assert_eq!(checked.format, "slack");
        input.target = "ftp://x".into();
        assert!(check(&input).is_err());
        input.kind = "email".into();
        input.target = "a@example.com, b@example.org".into();
        assert_eq!(
            check(&input).unwrap().target,
            "a@example.com, b@example.org"
        );
        input.target = "not an address".into();
        assert!(check(&input).is_err());
        input.kind = "pager".into();
        assert!(check(&input).is_err());
    }
}
