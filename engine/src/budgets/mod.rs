//! Budgets (SPEC F-08): what a workspace, an agent, a user or an API key may spend per calendar
//! day, week or month, in the workspace's time zone — soft (alerts only) or hard (calls refused
//! before they start).
//!
//! This module holds the budgets themselves (their periods, validation, the actions that make,
//! change and delete them, what the Budgets page reads); [`enforce`] holds what runs around
//! every model call: reserve the worst case before, settle to the real cost with the call's
//! record, release on failure, sweep what a crash left behind (migration 0010 says why it is
//! exact under concurrency).

pub mod enforce;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::json;
use sqlx::AnyConnection;
use wire::budgets::{Budget, BudgetHistory, BudgetInput, BudgetPeriod};

use crate::actions::Caller;
use crate::auth::Principal;
use crate::domain::MemberRole;
use crate::store::settings;
use crate::{Error, Result, Store, new_id, now_ms};

/// The longest a budget's name may be.
const MAX_NAME: usize = 100;
/// The largest amount a budget may hold, in dollars (keeps micro-USD far from overflow).
const MAX_AMOUNT_USD: f64 = 1_000_000_000.0;

/// A budget's calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// From local midnight to the next.
    Day,
    /// From Monday 00:00 local time, seven days.
    Week,
    /// From the first of the month 00:00 local time to the first of the next.
    Month,
}

impl Period {
    /// Parses `day`, `week` or `month`.
    pub fn parse(raw: &str) -> Result<Period> {
        match raw {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            _ => Err(Error::invalid("period", "must be day, week or month")),
        }
    }

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// `[start, end)` (Unix ms) of the period holding `at_ms` in `tz`. Local midnights that a
    /// daylight-saving change skips resolve to the first instant after the gap, as calendars do.
    pub fn bounds(self, at_ms: i64, tz: &TimeZone) -> Result<(i64, i64)> {
        let bad = |e: jiff::Error| Error::Config(format!("period bounds: {e}"));
        let date = Timestamp::from_millisecond(at_ms)
            .map_err(bad)?
            .to_zoned(tz.clone())
            .date();
        let start = match self {
            Period::Day => date,
            Period::Week => date
                .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
                .map_err(bad)?,
            Period::Month => date.first_of_month(),
        };
        let end = match self {
            Period::Day => start.checked_add(1.day()),
            Period::Week => start.checked_add(7.days()),
            Period::Month => start.checked_add(1.month()),
        }
        .map_err(bad)?;
        let ms = |d: jiff::civil::Date| -> Result<i64> {
            Ok(d.to_zoned(tz.clone())
                .map_err(bad)?
                .timestamp()
                .as_millisecond())
        };
        Ok((ms(start)?, ms(end)?))
    }
}

/// What a budget limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every call of the workspace.
    Workspace,
    /// One agent's calls.
    Agent,
    /// The calls of the tasks and runs one user started.
    User,
    /// The calls made with one API key.
    ApiKey,
}

impl Scope {
    /// Parses `workspace`, `agent`, `user` or `api_key`.
    pub fn parse(raw: &str) -> Result<Scope> {
        match raw {
            "workspace" => Ok(Scope::Workspace),
            "agent" => Ok(Scope::Agent),
            "user" => Ok(Scope::User),
            "api_key" => Ok(Scope::ApiKey),
            _ => Err(Error::invalid(
                "scope",
                "must be workspace, agent, user or api_key",
            )),
        }
    }

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Workspace => "workspace",
            Scope::Agent => "agent",
            Scope::User => "user",
            Scope::ApiKey => "api_key",
        }
    }
}

/// The workspace's time zone (the `time_zone` setting), UTC when unset.
pub async fn time_zone(conn: &mut AnyConnection, workspace_id: &str) -> Result<TimeZone> {
    let name = settings::get(&mut *conn, workspace_id, settings::TIME_ZONE)
        .await?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if name.is_empty() || name == "UTC" {
        return Ok(TimeZone::UTC);
    }
    // A zone that no longer parses (an older tz database) falls back to UTC, loudly.
    Ok(TimeZone::get(&name).unwrap_or_else(|_| {
        tracing::warn!(time_zone = %name, "the workspace's time zone is unknown; budgets use UTC");
        TimeZone::UTC
    }))
}

/// A budget's stored row: id, name, scope, subject, period, amount, hard, thresholds, created,
/// updated.
type Row = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    i64,
    i64,
);

const COLUMNS: &str = "id, name, scope, subject_id, period, amount_micros, CAST(hard AS BIGINT), \
                       thresholds, created_at, updated_at";

/// Thresholds as stored (`50,80,100`) into numbers; what does not parse is left out.
fn parse_thresholds(raw: &str) -> Vec<u32> {
    raw.split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect()
}

/// Checks an input and returns (name, scope, subject, period, micro-USD, thresholds).
async fn validate(
    conn: &mut AnyConnection,
    workspace_id: &str,
    input: &BudgetInput,
) -> Result<(String, Scope, String, Period, i64, Vec<u32>)> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    let scope = Scope::parse(&input.scope)?;
    let period = Period::parse(&input.period)?;
    if !input.amount_usd.is_finite() || input.amount_usd <= 0.0 {
        return Err(Error::invalid("amount_usd", "must be a positive amount"));
    }
    if input.amount_usd > MAX_AMOUNT_USD {
        return Err(Error::invalid(
            "amount_usd",
            "must be at most $1,000,000,000",
        ));
    }
    let micros = (input.amount_usd * 1_000_000.0).round() as i64;
    if micros < 1 {
        return Err(Error::invalid("amount_usd", "must be at least $0.000001"));
    }
    let mut thresholds = input.thresholds.clone();
    thresholds.sort_unstable();
    thresholds.dedup();
    if thresholds.len() > 10 || thresholds.iter().any(|t| !(1..=1000).contains(t)) {
        return Err(Error::invalid(
            "thresholds",
            "must be at most 10 percentages from 1 to 1000",
        ));
    }
    let subject = input.subject_id.trim().to_owned();
    let exists_sql = match scope {
        Scope::Workspace if subject.is_empty() => None,
        Scope::Workspace => {
            return Err(Error::invalid(
                "subject_id",
                "must be empty for a workspace budget",
            ));
        }
        _ if subject.is_empty() => {
            return Err(Error::invalid(
                "subject_id",
                "names the agent, user or API key the budget limits",
            ));
        }
        Scope::Agent => Some("SELECT COUNT(*) FROM agents WHERE workspace_id = $1 AND id = $2"),
        Scope::User => {
            Some("SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        }
        Scope::ApiKey => Some("SELECT COUNT(*) FROM api_keys WHERE workspace_id = $1 AND id = $2"),
    };
    if let Some(sql) = exists_sql {
        let (n,): (i64,) = sqlx::query_as(sql)
            .bind(workspace_id)
            .bind(&subject)
            .fetch_one(&mut *conn)
            .await?;
        if n == 0 {
            return Err(Error::invalid(
                "subject_id",
                format!("no {} {subject} in this workspace", scope.as_str()),
            ));
        }
    }
    Ok((name, scope, subject, period, micros, thresholds))
}

/// The name people know a budget's subject by.
async fn subject_label(
    conn: &mut AnyConnection,
    workspace_id: &str,
    scope: &str,
    subject: &str,
) -> Result<String> {
    let sql = match scope {
        "agent" => "SELECT name FROM agents WHERE workspace_id = $1 AND id = $2",
        "user" => {
            "SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id \
             WHERE m.workspace_id = $1 AND u.id = $2"
        }
        "api_key" => "SELECT name FROM api_keys WHERE workspace_id = $1 AND id = $2",
        _ => return Ok("Whole workspace".to_owned()),
    };
    let row: Option<(String,)> = sqlx::query_as(sql)
        .bind(workspace_id)
        .bind(subject)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map_or_else(|| format!("deleted {scope}"), |(n,)| n))
}

/// A stored period: start, end, spent, reserved, calls.
type PeriodRow = (i64, i64, i64, i64, i64);

fn period_of((start_ms, end_ms, spent, reserved, calls): PeriodRow, now: i64) -> BudgetPeriod {
    // Projected once an hour of the current period has passed: earlier, one call would be
    // extrapolated to a fortune.
    let elapsed = now - start_ms;
    let projected = (now < end_ms && elapsed >= 3_600_000).then(|| {
        let length = (end_ms - start_ms) as f64;
        (spent as f64 * length / elapsed as f64).round() as i64
    });
    BudgetPeriod {
        start_ms,
        end_ms,
        spent_micros: spent,
        reserved_micros: reserved,
        calls,
        projected_micros: projected,
    }
}

/// A budget with its current period (zeros when nothing was spent in it yet).
async fn budget_of(
    conn: &mut AnyConnection,
    workspace_id: &str,
    tz: &TimeZone,
    row: Row,
    now: i64,
) -> Result<Budget> {
    let (id, name, scope, subject_id, period, amount, hard, thresholds, created_at, updated_at) =
        row;
    let (start, end) = Period::parse(&period)?.bounds(now, tz)?;
    let stored: Option<PeriodRow> = sqlx::query_as(
        "SELECT period_start, period_end, spent_micros, reserved_micros, calls \
         FROM budget_periods WHERE budget_id = $1 AND period_start = $2",
    )
    .bind(&id)
    .bind(start)
    .fetch_optional(&mut *conn)
    .await?;
    let current = period_of(stored.unwrap_or((start, end, 0, 0, 0)), now);
    Ok(Budget {
        subject_label: subject_label(&mut *conn, workspace_id, &scope, &subject_id).await?,
        id,
        name,
        scope,
        subject_id,
        period,
        amount_micros: amount,
        hard: hard != 0,
        thresholds: parse_thresholds(&thresholds),
        current,
        created_at,
        updated_at,
    })
}

/// The workspace's budgets with their current periods, by name (every member may read them).
pub async fn list(store: &Store, who: &Principal) -> Result<Vec<Budget>> {
    let mut conn = store.pool().acquire().await?;
    let ws = who.workspace_id.as_str();
    let tz = time_zone(&mut conn, ws).await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM budgets WHERE workspace_id = $1 ORDER BY name, id"
    )))
    .bind(ws)
    .fetch_all(&mut *conn)
    .await?;
    let now = now_ms();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(budget_of(&mut conn, ws, &tz, row, now).await?);
    }
    Ok(out)
}

async fn row(conn: &mut AnyConnection, workspace_id: &str, id: &str) -> Result<Row> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM budgets WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found("budget", id))
}

/// One budget with its periods, newest first (at most 100).
pub async fn history(store: &Store, who: &Principal, id: &str) -> Result<BudgetHistory> {
    let mut conn = store.pool().acquire().await?;
    let ws = who.workspace_id.as_str();
    let tz = time_zone(&mut conn, ws).await?;
    let now = now_ms();
    let stored = row(&mut conn, ws, id).await?;
    let budget = budget_of(&mut conn, ws, &tz, stored, now).await?;
    let rows: Vec<PeriodRow> = sqlx::query_as(
        "SELECT period_start, period_end, spent_micros, reserved_micros, calls \
         FROM budget_periods WHERE budget_id = $1 ORDER BY period_start DESC LIMIT 100",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut periods: Vec<BudgetPeriod> = rows.into_iter().map(|r| period_of(r, now)).collect();
    if periods
        .first()
        .is_none_or(|p| p.start_ms != budget.current.start_ms)
    {
        periods.insert(0, budget.current.clone());
    }
    Ok(BudgetHistory { budget, periods })
}

/// A name taken by another budget, said so.
fn named_conflict(e: sqlx::Error, name: &str) -> Error {
    match Error::from(e) {
        Error::Conflict(_) => Error::Conflict(format!("a budget named {name} already exists")),
        other => other,
    }
}

/// What the audit entry of a change records.
fn details(
    name: &str,
    scope: Scope,
    subject: &str,
    period: Period,
    micros: i64,
    hard: bool,
    thresholds: &[u32],
) -> serde_json::Value {
    json!({ "name": name, "scope": scope.as_str(), "subject_id": subject,
            "period": period.as_str(), "amount_micros": micros, "hard": hard,
            "thresholds": thresholds })
}

/// Ends a create or update: its audit entry, the budget as it now reads, the commit, and this
/// process forgetting that the workspace had no budget.
async fn finish(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    caller: Caller<'_>,
    action: &str,
    id: &str,
    details: serde_json::Value,
    now: i64,
) -> Result<Budget> {
    let ws = caller.who.workspace_id.as_str();
    caller
        .audit(&mut tx, action, format!("budget:{id}"), details)
        .await?;
    let tz = time_zone(&mut tx, ws).await?;
    let stored = row(&mut tx, ws, id).await?;
    let budget = budget_of(&mut tx, ws, &tz, stored, now).await?;
    tx.commit().await?;
    enforce::budgets_changed(ws);
    Ok(budget)
}

/// Makes a budget (admins).
pub async fn create(store: &Store, caller: Caller<'_>, input: &BudgetInput) -> Result<Budget> {
    caller.who.require(MemberRole::Admin)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    let (name, scope, subject, period, micros, thresholds) = validate(&mut tx, ws, input).await?;
    let id = new_id();
    let now = now_ms();
    let joined: Vec<String> = thresholds.iter().map(u32::to_string).collect();
    sqlx::query(
        "INSERT INTO budgets (id, workspace_id, name, scope, subject_id, period, amount_micros, \
         hard, thresholds, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&id)
    .bind(ws)
    .bind(&name)
    .bind(scope.as_str())
    .bind(&subject)
    .bind(period.as_str())
    .bind(micros)
    .bind(i64::from(input.hard))
    .bind(joined.join(","))
    .bind(&caller.who.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| named_conflict(e, &name))?;
    let details = details(
        &name,
        scope,
        &subject,
        period,
        micros,
        input.hard,
        &thresholds,
    );
    finish(tx, caller, "budget.create", &id, details, now).await
}

/// Changes a budget (admins). What was spent and reserved stays; a new amount applies to the
/// next call at once.
pub async fn update(
    store: &Store,
    caller: Caller<'_>,
    id: &str,
    input: &BudgetInput,
) -> Result<Budget> {
    caller.who.require(MemberRole::Admin)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    row(&mut tx, ws, id).await?;
    let (name, scope, subject, period, micros, thresholds) = validate(&mut tx, ws, input).await?;
    let now = now_ms();
    let joined: Vec<String> = thresholds.iter().map(u32::to_string).collect();
    sqlx::query(
        "UPDATE budgets SET name = $3, scope = $4, subject_id = $5, period = $6, \
         amount_micros = $7, hard = $8, thresholds = $9, updated_at = $10 \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ws)
    .bind(id)
    .bind(&name)
    .bind(scope.as_str())
    .bind(&subject)
    .bind(period.as_str())
    .bind(micros)
    .bind(i64::from(input.hard))
    .bind(joined.join(","))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| named_conflict(e, &name))?;
    let details = details(
        &name,
        scope,
        &subject,
        period,
        micros,
        input.hard,
        &thresholds,
    );
    finish(tx, caller, "budget.update", id, details, now).await
}

/// Deletes a budget with its periods and reservations (admins).
pub async fn delete(store: &Store, caller: Caller<'_>, id: &str) -> Result<()> {
    caller.who.require(MemberRole::Admin)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    let (_, name, ..) = row(&mut tx, ws, id).await?;
    for sql in [
        "DELETE FROM budget_reservations WHERE budget_id = $1",
        "DELETE FROM budget_periods WHERE budget_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM budgets WHERE workspace_id = $1 AND id = $2")
        .bind(ws)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    caller
        .audit(
            &mut tx,
            "budget.delete",
            format!("budget:{id}"),
            json!({ "name": name }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn periods_follow_the_workspace_calendar() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        // Wednesday 2026-11-18 23:30 UTC is Thursday 00:30 in Paris.
        let at = ms("2026-11-18T23:30:00Z");
        assert_eq!(
            Period::Day.bounds(at, &TimeZone::UTC).unwrap(),
            (ms("2026-11-18T00:00:00Z"), ms("2026-11-19T00:00:00Z"))
        );
        assert_eq!(
            Period::Day.bounds(at, &paris).unwrap(),
            (ms("2026-11-18T23:00:00Z"), ms("2026-11-19T23:00:00Z"))
        );
        // Weeks start on Monday 16th, local midnight.
        assert_eq!(
            Period::Week.bounds(at, &paris).unwrap(),
            (ms("2026-11-15T23:00:00Z"), ms("2026-11-22T23:00:00Z"))
        );
        assert_eq!(
            Period::Month.bounds(at, &TimeZone::UTC).unwrap(),
            (ms("2026-11-01T00:00:00Z"), ms("2026-12-01T00:00:00Z"))
        );
        // October in Paris has 31 days and one hour more (summer time ends on the 25th).
        let (start, end) = Period::Month
            .bounds(ms("2026-10-10T12:00:00Z"), &paris)
            .unwrap();
        assert_eq!(end - start, (31 * 24 + 1) * 3_600_000);
        // The day summer time starts is 23 hours long.
        let (start, end) = Period::Day
            .bounds(ms("2026-03-29T12:00:00Z"), &paris)
            .unwrap();
        assert_eq!(end - start, 23 * 3_600_000);
    }

    #[test]
    fn names_parse_or_are_refused() {
        assert_eq!(Period::parse("week").unwrap(), Period::Week);
        assert!(Period::parse("year").is_err());
        assert_eq!(Scope::parse("api_key").unwrap(), Scope::ApiKey);
        assert!(Scope::parse("team").is_err());
        assert_eq!(parse_thresholds("50, 80,100,x"), vec![50, 80, 100]);
    }

    #[test]
    fn projections_wait_for_an_hour_and_extend_linearly() {
        let day = 24 * 3_600_000;
        let early = period_of((0, day, 1_000, 0, 1), 60_000);
        assert_eq!(early.projected_micros, None);
        let half = period_of((0, day, 1_000, 500, 3), day / 2);
        assert_eq!(half.projected_micros, Some(2_000));
        let past = period_of((0, day, 1_000, 0, 3), day + 1);
        assert_eq!(past.projected_micros, None);
    }
}
