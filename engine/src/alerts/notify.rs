//! Sending alerts: the delivery queue.
//!
//! Channels are [`super::channels`]'; e-mail goes through the instance's SMTP server, which the
//! server process hands in as a [`Mailer`].
//!
//! Deliveries are rows queued with their alert, in its transaction. [`deliver_due`] claims due
//! rows by moving their next attempt forward (a conditional update, so two processes never send
//! the same row at once), sends them and records the outcome: delivered, or retried with
//! exponential backoff until [`MAX_ATTEMPTS`], then failed. The rows are the delivery log.
//!
//! Webhook requests carry `X-Fleetdeck-Signature: t=UNIX_SECONDS,v1=HEX` where `HEX` is the
//! HMAC-SHA256 of `"{t}.{body}"` under the channel's signing secret, and
//! `X-Fleetdeck-Delivery: ID` (the same on every retry, for de-duplication).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sqlx::AnyConnection;
use wire::alerts::Delivery;

use super::channels::{
    DELIVERY_COLUMNS, DeliveryRow, Sealed, channel_row, delivery_of, recipients, seal_context,
};

use super::Severity;
use crate::actions::Caller;
use crate::auth::secrets::MasterKey;
use crate::domain::MemberRole;
use crate::providers::BoxFuture;
use crate::{Error, Result, Store, new_id, now_ms};

/// Attempts before a delivery is given up as failed.
pub const MAX_ATTEMPTS: i64 = 6;
/// The wait before the first retry; each further retry waits four times longer (5 s, 20 s,
/// 80 s, 320 s, 1280 s: the last attempt is about half an hour after the first).
pub const FIRST_RETRY_MS: i64 = 5_000;
/// How long a claimed delivery is left to its sender before another may take it.
const CLAIM_MS: i64 = 60_000;
/// How long one webhook request may take.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends e-mail for the alert channels (the server's SMTP configuration).
pub trait Mailer: Send + Sync {
    /// Whether an SMTP server is configured.
    fn configured(&self) -> bool;
    /// Sends one plain-text message; the error is safe to show (no credentials).
    fn send(
        &self,
        to: Vec<String>,
        subject: String,
        body: String,
    ) -> BoxFuture<'static, std::result::Result<(), String>>;
}

/// A mailer for processes without SMTP: every e-mail delivery fails, saying why.
pub struct NoMailer;

impl Mailer for NoMailer {
    fn configured(&self) -> bool {
        false
    }
    fn send(
        &self,
        _: Vec<String>,
        _: String,
        _: String,
    ) -> BoxFuture<'static, std::result::Result<(), String>> {
        Box::pin(async { Err("no SMTP server is configured (set FLEETDECK_SMTP_URL)".to_owned()) })
    }
}

/// What sending needs: the key that opens webhook secrets, the mailer, the address links point
/// to, and an HTTP client.
pub struct Notifier {
    master: MasterKey,
    mailer: Arc<dyn Mailer>,
    public_url: String,
    client: reqwest::Client,
}

impl Notifier {
    /// A notifier whose links start with `public_url` (e.g. `http://127.0.0.1:3000`).
    pub fn new(master: MasterKey, mailer: Arc<dyn Mailer>, public_url: String) -> Self {
        Self {
            master,
            mailer,
            public_url: public_url.trim_end_matches('/').to_owned(),
            client: crate::providers::http_client(),
        }
    }

    /// Whether e-mail channels can send.
    pub fn mail_configured(&self) -> bool {
        self.mailer.configured()
    }
}

/// The signature header's value for `body` sent at `unix_seconds`.
pub fn signature(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Queues the alert for every enabled channel of the workspace that takes its severity, on
/// `conn` (the alert's transaction).
pub(super) async fn queue_for_alert(
    conn: &mut AnyConnection,
    workspace_id: &str,
    alert_id: &str,
    severity: Severity,
    now: i64,
) -> Result<()> {
    let takes = severity_set(severity);
    let channels: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM notification_channels WHERE workspace_id = $1 AND enabled = 1 \
         AND min_severity IN ({takes})"
    )))
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    for channel in channels {
        sqlx::query(
            "INSERT INTO alert_deliveries (id, workspace_id, channel_id, alert_id, state, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
        )
        .bind(new_id())
        .bind(workspace_id)
        .bind(&channel)
        .bind(alert_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The minimum severities of channels that take an alert of `severity`, as SQL literals (from
/// a fixed list, never from input).
fn severity_set(severity: Severity) -> String {
    [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .filter(|min| *min <= severity)
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one message says.
struct Message {
    severity: String,
    title: String,
    text: String,
    link: String,
    alert: Value,
}

async fn message_for(
    conn: &mut AnyConnection,
    workspace_id: &str,
    alert_id: Option<&str>,
    public_url: &str,
) -> Result<Message> {
    let Some(alert_id) = alert_id else {
        return Ok(Message {
            severity: "info".to_owned(),
            title: "Test notification from Fleetdeck".to_owned(),
            text: "This channel works: alerts will arrive here.".to_owned(),
            link: public_url.to_owned(),
            alert: Value::Null,
        });
    };
    let alert = super::fetch(conn, workspace_id, alert_id).await?;
    let link = if alert.link.is_empty() {
        format!("{public_url}/alerts")
    } else {
        format!("{public_url}{}", alert.link)
    };
    Ok(Message {
        severity: alert.severity.clone(),
        title: alert.title.clone(),
        text: alert.message.clone(),
        link,
        alert: serde_json::to_value(&alert).unwrap_or(Value::Null),
    })
}

fn webhook_body(format: &str, m: &Message) -> Value {
    let line = format!(
        "[{}] {}\n{}\n{}",
        m.severity.to_uppercase(),
        m.title,
        m.text,
        m.link
    );
    match format {
        "discord" => json!({ "username": "Fleetdeck", "content": line }),
        "generic" => json!({ "event": "alert", "text": line, "alert": m.alert, "link": m.link }),
        _ => json!({ "text": line }),
    }
}

/// One attempt's outcome: (HTTP status, error).
type Attempt = (Option<i64>, Option<String>);

async fn send_webhook(
    notifier: &Notifier,
    delivery_id: &str,
    channel_id: &str,
    format: &str,
    sealed: &str,
    message: &Message,
) -> Attempt {
    let opened = STANDARD
        .decode(sealed)
        .map_err(|_| Error::Config("a channel's sealed secret is not base64".into()))
        .and_then(|bytes| notifier.master.open(&bytes, &seal_context(channel_id)))
        .and_then(|plain| {
            serde_json::from_slice::<Sealed>(&plain)
                .map_err(|_| Error::Config("a channel's sealed secret does not read".into()))
        });
    let sealed = match opened {
        Ok(s) => s,
        Err(e) => return (None, Some(e.to_string())),
    };
    let body = webhook_body(format, message).to_string();
    let now = now_ms() / 1000;
    let request = notifier
        .client
        .post(&sealed.url)
        .timeout(WEBHOOK_TIMEOUT)
        .header("content-type", "application/json")
        .header(
            "x-fleetdeck-signature",
            signature(&sealed.signing_secret, now, &body),
        )
        .header("x-fleetdeck-delivery", delivery_id)
        .body(body);
    match request.send().await {
        Ok(response) => {
            let status = i64::from(response.status().as_u16());
            if response.status().is_success() {
                (Some(status), None)
            } else {
                let reason = response.status().canonical_reason().unwrap_or("error");
                (
                    Some(status),
                    Some(format!("the receiver answered {status} {reason}")),
                )
            }
        }
        // The error names the host, never the URL's path (a Slack URL's path is its secret).
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "the request failed"
            };
            (None, Some(what.to_owned()))
        }
    }
}

async fn send_email(notifier: &Notifier, to: &str, message: &Message) -> Attempt {
    let to = match recipients(to) {
        Ok(to) => to,
        Err(e) => return (None, Some(e.to_string())),
    };
    let subject = format!("[Fleetdeck {}] {}", message.severity, message.title);
    let body = format!(
        "{}\n\n{}\n\n{}\n",
        message.title, message.text, message.link
    );
    match notifier.mailer.send(to, subject, body).await {
        Ok(()) => (None, None),
        Err(e) => (None, Some(e)),
    }
}

/// Sends one claimed delivery and records the outcome; answers it as it now reads.
async fn attempt(
    store: &Store,
    notifier: &Notifier,
    delivery_id: &str,
    retries: bool,
) -> Result<Delivery> {
    type Claimed = (String, Option<String>, i64, String, String, String, String);
    let mut conn = store.pool().acquire().await?;
    let claimed: Claimed = sqlx::query_as(
        "SELECT d.workspace_id, d.alert_id, d.attempts, c.id, c.kind, c.target, \
         c.format || '|' || c.secret_sealed FROM alert_deliveries d \
         JOIN notification_channels c ON c.id = d.channel_id WHERE d.id = $1",
    )
    .bind(delivery_id)
    .fetch_one(&mut *conn)
    .await?;
    let (ws, alert_id, attempts, channel_id, kind, target, format_secret) = claimed;
    let (format, sealed) = format_secret.split_once('|').unwrap_or(("", ""));
    let message = message_for(&mut conn, &ws, alert_id.as_deref(), &notifier.public_url).await?;
    drop(conn);
    let (status, error) = if kind == "webhook" {
        send_webhook(notifier, delivery_id, &channel_id, format, sealed, &message).await
    } else {
        send_email(notifier, &target, &message).await
    };
    let attempts = attempts + 1;
    let now = now_ms();
    let (state, next) = match &error {
        None => ("delivered", now),
        Some(_) if retries && attempts < MAX_ATTEMPTS => (
            "pending",
            now + FIRST_RETRY_MS * 4_i64.pow(u32::try_from(attempts - 1).unwrap_or(0)),
        ),
        Some(_) => ("failed", now),
    };
    if let Some(e) = &error {
        tracing::warn!(delivery.id = %delivery_id, channel.kind = %kind, attempts, error = %e,
            "an alert delivery failed");
    }
    sqlx::query(
        "UPDATE alert_deliveries SET state = $2, attempts = $3, next_attempt_at = $4, \
         last_status = $5, last_error = $6, delivered_at = $7 WHERE id = $1",
    )
    .bind(delivery_id)
    .bind(state)
    .bind(attempts)
    .bind(next)
    .bind(status)
    .bind(error.as_deref())
    .bind((state == "delivered").then_some(now))
    .execute(store.pool())
    .await?;
    let row: DeliveryRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries d LEFT JOIN alerts a ON a.id = d.alert_id \
         WHERE d.id = $1"
    )))
    .bind(delivery_id)
    .fetch_one(store.pool())
    .await?;
    Ok(delivery_of(row))
}

/// Sends every due delivery (at most `limit`); answers how many were attempted.
pub async fn deliver_due(store: &Store, notifier: &Notifier, limit: i64) -> Result<usize> {
    let now = now_ms();
    let due: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, next_attempt_at FROM alert_deliveries \
         WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let mut sent = 0;
    for (id, at) in due {
        // Claim it: only one process moves this row's next attempt from `at`.
        let claimed = sqlx::query(
            "UPDATE alert_deliveries SET next_attempt_at = $3 \
             WHERE id = $1 AND state = 'pending' AND next_attempt_at = $2",
        )
        .bind(&id)
        .bind(at)
        .bind(now + CLAIM_MS)
        .execute(store.pool())
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        attempt(store, notifier, &id, true).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Sends a test message to a channel now, once, and answers how it went (admins). It is kept
/// in the channel's delivery log.
pub async fn send_test(
    store: &Store,
    notifier: &Notifier,
    caller: Caller<'_>,
    channel_id: &str,
) -> Result<Delivery> {
    caller.who.require(MemberRole::Admin)?;
    let ws = caller.who.workspace_id.as_str();
    let id = new_id();
    let now = now_ms();
    let mut tx = store.begin().await?;
    let row = channel_row(&mut tx, ws, channel_id).await?;
    // Claimed from the start (next attempt in the future) so that the loop leaves it alone.
    sqlx::query(
        "INSERT INTO alert_deliveries (id, workspace_id, channel_id, alert_id, state, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, NULL, 'pending', $4, $5)",
    )
    .bind(&id)
    .bind(ws)
    .bind(channel_id)
    .bind(now + CLAIM_MS)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    caller
        .audit(
            &mut tx,
            "channel.test",
            format!("channel:{channel_id}"),
            json!({ "name": row.1 }),
        )
        .await?;
    tx.commit().await?;
    attempt(store, notifier, &id, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_time_and_body() {
        // RFC 4231-style check against a value computed independently (openssl dgst -hmac).
        let sig = signature("key", 1, "{}");
        assert!(sig.starts_with("t=1,v1="));
        assert_eq!(sig.len(), "t=1,v1=".len() + 64);
        assert_ne!(sig, signature("other", 1, "{}"));
        assert_ne!(sig, signature("key", 2, "{}"));
    }

    #[test]
    fn bodies_speak_slack_and_discord() {
        let m = Message {
            severity: "critical".into(),
            title: "Budget passed 100 %".into(),
            text: "$1 of $1".into(),
            link: "http://x/budgets".into(),
            alert: Value::Null,
        };
        assert!(
            webhook_body("slack", &m)["text"]
                .as_str()
                .unwrap()
                .starts_with("[CRITICAL]")
        );
        assert!(webhook_body("discord", &m)["content"].is_string());
        assert_eq!(webhook_body("generic", &m)["event"], "alert");
        assert_eq!(severity_set(Severity::Warning), "'info', 'warning'");
    }
}
