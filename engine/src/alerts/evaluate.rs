//! What each rule sees right now. One pass per workspace: every enabled rule lists the alerts it
//! wants open; in one transaction those not yet open are opened (with their deliveries queued)
//! and the open alerts of a rule that no longer fires — or is disabled — are resolved as
//! cleared. Every read is bounded: the budgets' current periods, a handful of hourly totals,
//! the running tasks, the agents under way, the last hour's calls up to a limit.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use sqlx::AnyConnection;
use wire::alerts::Alert;

use super::rules::{self, Kind, Rule};
use super::{Opening, Severity};
use crate::events::{Event, EventBus};
use crate::{Result, Store};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Most recent calls the failure-rate rule reads per pass (within the last hour).
const RECENT_CALLS: i64 = 2_000;

fn dollars(micros: i64) -> String {
    wire::format::format_micros(micros)
}

fn short(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= max {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Budget periods under way past a threshold: the highest threshold passed per budget (a
/// jump past several fires once, for the highest).
async fn budget_thresholds(
    conn: &mut AnyConnection,
    ws: &str,
    rule: &Rule,
    now: i64,
) -> Result<Vec<Opening>> {
    type BudgetRow = (String, String, String, i64, i64, String, i64, i64);
    let rows: Vec<BudgetRow> = sqlx::query_as(
        "SELECT b.id, b.name, b.period, b.amount_micros, b.hard, b.thresholds, p.period_start, \
         p.spent_micros FROM budgets b JOIN budget_periods p ON p.budget_id = b.id \
         WHERE b.workspace_id = $1 AND p.period_start <= $2 AND p.period_end > $2",
    )
    .bind(ws)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (id, name, period, amount, hard, thresholds, start, spent) in rows {
        let passed = thresholds
            .split(',')
            .filter_map(|t| t.trim().parse::<i64>().ok())
            .filter(|pct| i128::from(spent) * 100 >= i128::from(amount) * i128::from(*pct))
            .max();
        let Some(pct) = passed else { continue };
        let severity = if pct >= 100 {
            Severity::Critical
        } else {
            rule.severity
        };
        let enforcement = if hard != 0 {
            "hard: calls past the amount are refused"
        } else {
            "soft: alerts only"
        };
        out.push(Opening {
            kind: Kind::BudgetThreshold,
            subject: format!("budget:{id}"),
            subject_label: name.clone(),
            dedup_key: format!("budget_threshold|budget:{id}|{start}|{pct}"),
            severity,
            title: format!("Budget {name} passed {pct} %"),
            message: format!(
                "{} spent of {} this {period} ({enforcement}).",
                dollars(spent),
                dollars(amount)
            ),
            link: "/budgets".to_owned(),
        });
    }
    Ok(out)
}

/// This hour so far against the same hour's average over the last days.
async fn cost_spike(
    conn: &mut AnyConnection,
    ws: &str,
    rule: &Rule,
    now: i64,
) -> Result<Vec<Opening>> {
    let hour = now - now.rem_euclid(HOUR_MS);
    let days = rule.param("days").round().max(1.0) as i64;
    let current: Option<i64> = sqlx::query_scalar(
        "SELECT cost_micros FROM call_totals_hourly WHERE workspace_id = $1 AND hour_ms = $2",
    )
    .bind(ws)
    .bind(hour)
    .fetch_optional(&mut *conn)
    .await?;
    let current = current.unwrap_or(0);
    let floor = (rule.param("min_usd") * 1_000_000.0) as i64;
    if current <= 0 || current < floor {
        return Ok(Vec::new());
    }
    // The same hour on each of the last `days` days, and whether there is any history that old
    // (a workspace on its first day has nothing to compare with).
    let (past, history): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN (($2 - hour_ms) % 86400000) = 0 THEN cost_micros ELSE 0 END) \
         AS BIGINT), \
         MIN(hour_ms) FROM call_totals_hourly \
         WHERE workspace_id = $1 AND hour_ms >= $3 AND hour_ms < $4",
    )
    .bind(ws)
    .bind(hour)
    .bind(hour - days * DAY_MS)
    .bind(hour - DAY_MS + HOUR_MS)
    .fetch_one(&mut *conn)
    .await?;
    if history.is_none_or(|first| first > hour - DAY_MS) {
        return Ok(Vec::new());
    }
    let average = past.unwrap_or(0) as f64 / days as f64;
    let factor = rule.param("factor");
    if (current as f64) <= factor * average {
        return Ok(Vec::new());
    }
    Ok(vec![Opening {
        kind: Kind::CostSpike,
        subject: "workspace".to_owned(),
        subject_label: "Workspace spending".to_owned(),
        dedup_key: "cost_spike|workspace".to_owned(),
        severity: rule.severity,
        title: format!("Spending spike: {} this hour", dollars(current)),
        message: format!(
            "{} so far this hour, more than {factor}× the same hour's average of {} over the last \
             {days} days.",
            dollars(current),
            dollars(average.round() as i64)
        ),
        link: "/analytics".to_owned(),
    }])
}

/// Running tasks with no event for longer than the rule allows.
async fn stuck_agents(
    conn: &mut AnyConnection,
    ws: &str,
    rule: &Rule,
    now: i64,
) -> Result<Vec<Opening>> {
    type TaskRow = (
        String,
        String,
        Option<i64>,
        i64,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<TaskRow> = sqlx::query_as(
        "SELECT t.id, t.description, t.started_at, t.created_at, \
         (SELECT e.created_at FROM events e \
          WHERE e.workspace_id = t.workspace_id AND e.topic = 'task:' || t.id \
          ORDER BY e.seq DESC LIMIT 1), \
         (SELECT r.role FROM agent_runs r WHERE r.task_id = t.id AND r.status = 'active' \
          ORDER BY r.step_index DESC LIMIT 1) \
         FROM tasks t WHERE t.workspace_id = $1 AND t.status = 'running'",
    )
    .bind(ws)
    .fetch_all(&mut *conn)
    .await?;
    let limit_ms = (rule.param("minutes") * 60_000.0) as i64;
    let mut out = Vec::new();
    for (id, description, started, created, last_event, role) in rows {
        let last = last_event.unwrap_or(0).max(started.unwrap_or(created));
        let idle = now - last;
        if idle < limit_ms {
            continue;
        }
        let who = role.map_or_else(|| "Its agent".to_owned(), |r| format!("The {r}"));
        let idle_label = if idle >= 60_000 {
            format!("{} min", idle / 60_000)
        } else {
            format!("{} s", idle / 1_000)
        };
        out.push(Opening {
            kind: Kind::StuckAgent,
            subject: format!("task:{id}"),
            subject_label: short(&description, 80),
            dedup_key: format!("stuck_agent|task:{id}"),
            severity: rule.severity,
            title: format!("Agent stuck: no progress for {idle_label}"),
            message: format!(
                "{who} on task \u{201c}{}\u{201d} has made no progress for {idle_label}.",
                short(&description, 80)
            ),
            link: format!("/tasks/{id}"),
        });
    }
    Ok(out)
}

/// Agents under way past a share of their model's context window.
async fn context_windows(
    conn: &mut AnyConnection,
    ws: &str,
    rule: &Rule,
    now: i64,
) -> Result<Vec<Opening>> {
    type RunRow = (
        String,
        Option<String>,
        i64,
        String,
        i64,
        i64,
        Option<String>,
    );
    let percent = rule.param("percent");
    let rows: Vec<RunRow> = sqlx::query_as(
        "SELECT r.id, r.task_id, r.step_index, r.role, r.context_tokens, r.context_window, a.name \
         FROM agent_runs r LEFT JOIN agents a ON a.id = r.agent_id \
         WHERE r.workspace_id = $1 AND r.created_at >= $2 AND r.status = 'active' \
         AND r.context_window > 0",
    )
    .bind(ws)
    .bind(now - DAY_MS)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (run_id, task_id, step, role, used, window, agent) in rows {
        let share = used as f64 * 100.0 / window as f64;
        if share <= percent {
            continue;
        }
        let name = agent.unwrap_or(role);
        let link = task_id
            .as_deref()
            .map_or_else(String::new, |t| format!("/tasks/{t}"));
        out.push(Opening {
            kind: Kind::ContextWindow,
            subject: format!("run:{run_id}"),
            subject_label: format!("{name} (step {})", step + 1),
            dedup_key: format!("context_window|run:{run_id}"),
            severity: rule.severity,
            title: format!("{name} has used {share:.0} % of its context window"),
            message: format!(
                "{used} of {window} tokens in step {}; past {percent} % the model may drop or \
                 truncate what it was told.",
                step + 1
            ),
            link,
        });
    }
    Ok(out)
}

/// Agents whose most recent calls (within the last hour) failed too often.
async fn failure_rates(
    conn: &mut AnyConnection,
    ws: &str,
    rule: &Rule,
    now: i64,
) -> Result<Vec<Opening>> {
    let window = rule.param("calls").round().max(2.0) as usize;
    let percent = rule.param("percent");
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT agent_id, success FROM llm_calls WHERE workspace_id = $1 AND created_at >= $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(ws)
    .bind(now - HOUR_MS)
    .bind(RECENT_CALLS)
    .fetch_all(&mut *conn)
    .await?;
    // Per agent, its `window` most recent calls: (calls, failed).
    let mut per_agent: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (agent, success) in rows {
        let entry = per_agent.entry(agent.unwrap_or_default()).or_default();
        if entry.0 < window {
            entry.0 += 1;
            entry.1 += usize::from(success == 0);
        }
    }
    let mut out = Vec::new();
    for (agent, (calls, failed)) in per_agent {
        if calls < window || (failed as f64) * 100.0 <= percent * calls as f64 {
            continue;
        }
        let name: Option<String> = if agent.is_empty() {
            None
        } else {
            sqlx::query_scalar("SELECT name FROM agents WHERE id = $1")
                .bind(&agent)
                .fetch_optional(&mut *conn)
                .await?
        };
        let label = name.unwrap_or_else(|| {
            if agent.is_empty() {
                "Calls outside agents".to_owned()
            } else {
                "A deleted agent".to_owned()
            }
        });
        out.push(Opening {
            kind: Kind::FailureRate,
            subject: format!("agent:{agent}"),
            subject_label: label.clone(),
            dedup_key: format!("failure_rate|agent:{agent}"),
            severity: rule.severity,
            title: format!("{label}: {failed} of its last {calls} calls failed"),
            message: format!(
                "{:.0} % of {label}'s last {calls} calls failed (the rule fires above {percent} %).",
                failed as f64 * 100.0 / calls as f64
            ),
            link: "/calls?outcome=failed".to_owned(),
        });
    }
    Ok(out)
}

/// Agents that spent more than the rule's amount over its last hours (hourly rollups).
async fn agent_costs(
    conn: &mut AnyConnection,
    ws: &str,
    rule: &Rule,
    now: i64,
) -> Result<Vec<Opening>> {
    let hours = rule.param("hours").round().max(1.0) as i64;
    let limit = (rule.param("usd") * 1_000_000.0) as i64;
    let since = now - now.rem_euclid(HOUR_MS) - (hours - 1) * HOUR_MS;
    let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
        "SELECT c.agent_id, CAST(SUM(c.cost_micros) AS BIGINT), MAX(a.name) \
         FROM call_rollups_hourly c \
         LEFT JOIN agents a ON a.id = c.agent_id \
         WHERE c.workspace_id = $1 AND c.hour_ms >= $2 AND c.agent_id <> '' \
         GROUP BY c.agent_id HAVING SUM(c.cost_micros) > $3",
    )
    .bind(ws)
    .bind(since)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(agent, cost, name)| {
            let label = name.unwrap_or_else(|| "A deleted agent".to_owned());
            Opening {
                kind: Kind::AgentCost,
                subject: format!("agent:{agent}"),
                subject_label: label.clone(),
                dedup_key: format!("agent_cost|agent:{agent}"),
                severity: rule.severity,
                title: format!("{label} spent {} in {hours} h", dollars(cost)),
                message: format!(
                    "{label} spent {} over the last {hours} hours (the rule fires above {}).",
                    dollars(cost),
                    dollars(limit)
                ),
                link: "/analytics".to_owned(),
            }
        })
        .collect())
}

async fn firing(conn: &mut AnyConnection, ws: &str, rule: &Rule, now: i64) -> Result<Vec<Opening>> {
    match rule.kind {
        Kind::BudgetThreshold => budget_thresholds(conn, ws, rule, now).await,
        Kind::CostSpike => cost_spike(conn, ws, rule, now).await,
        Kind::StuckAgent => stuck_agents(conn, ws, rule, now).await,
        Kind::ContextWindow => context_windows(conn, ws, rule, now).await,
        Kind::FailureRate => failure_rates(conn, ws, rule, now).await,
        Kind::AgentCost => agent_costs(conn, ws, rule, now).await,
    }
}

/// What one pass did in a workspace.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Alerts opened.
    pub opened: Vec<Alert>,
    /// Alerts resolved because their condition cleared.
    pub resolved: Vec<Alert>,
}

/// Evaluates every rule of one workspace at `now` and broadcasts what changed.
pub async fn workspace(store: &Store, bus: &EventBus, ws: &str, now: i64) -> Result<Outcome> {
    let mut conn = store.pool().acquire().await?;
    let rules = rules::load(&mut conn, ws).await?;
    let mut wanted: Vec<Opening> = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled) {
        wanted.extend(firing(&mut conn, ws, rule, now).await?);
    }
    // What is open now, to resolve what no longer fires; and the budget crossings of the last
    // month resolved already, whose keys stay taken (so a pass does not try them again).
    let known: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, state, dedup_key FROM alerts WHERE workspace_id = $1 \
         AND (state IN ('open', 'acknowledged') \
              OR (kind = 'budget_threshold' AND opened_at >= $2))",
    )
    .bind(ws)
    .bind(now - 32 * DAY_MS)
    .fetch_all(&mut *conn)
    .await?;
    drop(conn);
    let wanted_keys: HashSet<&str> = wanted.iter().map(|o| o.dedup_key.as_str()).collect();
    let known_keys: HashSet<&str> = known.iter().map(|(_, _, key)| key.as_str()).collect();
    let cleared: Vec<&str> = known
        .iter()
        .filter(|(_, state, key)| state != "resolved" && !wanted_keys.contains(key.as_str()))
        .map(|(id, _, _)| id.as_str())
        .collect();
    let new: Vec<&Opening> = wanted
        .iter()
        .filter(|o| !known_keys.contains(o.dedup_key.as_str()))
        .collect();
    let mut outcome = Outcome::default();
    if cleared.is_empty() && new.is_empty() {
        return Ok(outcome);
    }
    let mut tx = store.begin().await?;
    let mut staged: Vec<Arc<Event>> = Vec::new();
    for id in cleared {
        if let Some((alert, events)) = super::resolve_on(&mut tx, ws, id, None, now).await? {
            outcome.resolved.push(alert);
            staged.extend(events);
        }
    }
    for opening in new {
        if let Some((alert, events)) = super::open(&mut tx, ws, opening, now).await? {
            outcome.opened.push(alert);
            staged.extend(events);
        }
    }
    tx.commit().await?;
    bus.broadcast(&staged);
    Ok(outcome)
}

/// Evaluates every workspace; a failure in one is logged and the others still run.
pub async fn all(store: &Store, bus: &EventBus, now: i64) -> Result<usize> {
    let workspaces: Vec<String> = sqlx::query_scalar("SELECT id FROM workspaces")
        .fetch_all(store.pool())
        .await?;
    let mut opened = 0;
    for ws in workspaces {
        match workspace(store, bus, &ws, now).await {
            Ok(outcome) => opened += outcome.opened.len(),
            Err(e) => tracing::error!(error = %e, workspace.id = %ws, "alert evaluation failed"),
        }
    }
    Ok(opened)
}
