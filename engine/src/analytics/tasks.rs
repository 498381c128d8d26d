//! `GET /api/v1/metrics/trends` and `/analyst-roi`: task outcomes, durations and costs from
//! the task rollups (written by a trigger when a task reaches a final state, migration 0007:
//! `task_rollups_hourly`, and from it per UTC day `task_rollups_daily`, migration 0009; whole
//! days are read from the daily table), when the fleet works from the call rollups' hours, and
//! the most expensive tasks from `task_top_hourly`. Nothing here scans tasks or calls.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use sqlx::Row;
use wire::analytics::{
    AgentScore, AnalystRoi, CountPoint, DurationBucket, HeatCell, RoiRow, TaskKindRow, TaskPoint,
    TaskStats, TopTask, TrendsReport,
};

use super::costs::{Granularity, MAX_HOURLY_RANGE_MS, MAX_RANGE_MS};
use crate::store::llm_calls::HOUR_MS;
use crate::{Error, Result, Store};

/// Upper bounds of the completion-time buckets (as migration 0007 writes them): up to 10 s,
/// 30 s, 1 min, 2 min, 5 min, 10 min, 30 min, 1 h, 2 h, 6 h, 24 h, then everything longer.
pub const DURATION_BOUNDS_MS: [i64; 11] = [
    10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000,
    86_400_000,
];
/// Number of duration buckets.
pub const DURATION_BUCKETS: usize = DURATION_BOUNDS_MS.len() + 1;

/// An agent needs this many calls in the range to be ranked among the top performers (one
/// lucky call is not a record).
pub const MIN_CALLS_TO_RANK: i64 = 5;

/// The bucket a duration falls into.
pub fn duration_bucket(ms: i64) -> usize {
    DURATION_BOUNDS_MS
        .iter()
        .position(|b| ms <= *b)
        .unwrap_or(DURATION_BOUNDS_MS.len())
}

/// Rounds a range out to whole hours and checks it.
fn hours(from_ms: i64, to_ms: i64) -> Result<(i64, i64)> {
    if to_ms <= from_ms {
        return Err(Error::invalid("to", "must be after from"));
    }
    let from = from_ms - from_ms.rem_euclid(HOUR_MS);
    let to = to_ms + (HOUR_MS - to_ms.rem_euclid(HOUR_MS)) % HOUR_MS;
    if to - from > MAX_RANGE_MS {
        return Err(Error::invalid("from", "the range is at most 400 days"));
    }
    Ok((from, to))
}

/// Parses an IANA time zone name (`Europe/Paris`); empty means UTC.
pub fn time_zone(name: &str) -> Result<TimeZone> {
    if name.is_empty() || name == "UTC" {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|_| Error::invalid("tz", "must be an IANA time zone name"))
}

/// id, description, workflow, status, cost, unpriced calls, finished at.
type TopTaskRow = (String, String, String, String, i64, i64, Option<i64>);

/// One row of the task rollups, summed over the range.
struct KindRow {
    workflow: String,
    complexity: String,
    analyst: bool,
    status: String,
    stats: TaskStats,
    durations: [i64; DURATION_BUCKETS],
}

/// The task rollups over `[from, to)`, summed per workflow, complexity, analyst and status:
/// whole days from the daily table, the partial days at the edges from the hourly one, each
/// part read at once on its own connection and merged here.
async fn kinds(store: &Store, workspace_id: &str, from: i64, to: i64) -> Result<Vec<KindRow>> {
    let durations: Vec<String> = (0..DURATION_BUCKETS)
        .map(|k| format!("CAST(SUM(dur_{k}) AS BIGINT)"))
        .collect();
    let durations = durations.join(", ");
    let parts = crate::store::rollups::task_parts(from, to);
    let reads = parts.iter().map(|part| {
        let (table, period, [lo, hi]) = (part.source, part.period, part.bounds);
        // Only fixed table and column names are formatted into the statement.
        let sql = format!(
            "SELECT workflow, complexity, CAST(analyst AS BIGINT), status, \
             CAST(SUM(tasks) AS BIGINT), CAST(SUM(cost_micros) AS BIGINT), \
             CAST(SUM(unpriced_tasks) AS BIGINT), CAST(SUM(duration_ms_sum) AS BIGINT), \
             {durations} FROM {table} \
             WHERE workspace_id = $1 AND {period} >= $2 AND {period} < $3 \
             GROUP BY workflow, complexity, analyst, status"
        );
        async move {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace_id)
                .bind(lo)
                .bind(hi)
                .fetch_all(store.pool())
                .await?;
            rows.iter().map(kind_row).collect::<Result<Vec<KindRow>>>()
        }
    });
    let mut merged: BTreeMap<(String, String, bool, String), KindRow> = BTreeMap::new();
    let parts_rows = futures_util::future::try_join_all(reads).await?;
    for (mut row, sign) in parts_rows
        .into_iter()
        .zip(&parts)
        .flat_map(|(rows, part)| rows.into_iter().map(move |row| (row, part.sign)))
    {
        row.scale(sign);
        let key = (
            row.workflow.clone(),
            row.complexity.clone(),
            row.analyst,
            row.status.clone(),
        );
        match merged.get_mut(&key) {
            Some(sum) => {
                sum.stats.add(&row.stats);
                for (d, n) in sum.durations.iter_mut().zip(row.durations) {
                    *d += n;
                }
            }
            None => {
                merged.insert(key, row);
            }
        }
    }
    // A kind whose tasks all finished outside the range adds up to none: left out.
    Ok(merged
        .into_values()
        .filter(|k| k.stats.tasks != 0)
        .collect())
}

/// One row of [`kinds`]' statement.
fn kind_row(row: &sqlx::any::AnyRow) -> Result<KindRow> {
    let status: String = row.try_get(3)?;
    let tasks: i64 = row.try_get(4)?;
    let mut durations = [0; DURATION_BUCKETS];
    for (k, d) in durations.iter_mut().enumerate() {
        *d = row.try_get(8 + k)?;
    }
    Ok(KindRow {
        workflow: row.try_get(0)?,
        complexity: row.try_get(1)?,
        analyst: row.try_get::<i64, _>(2)? != 0,
        stats: TaskStats {
            tasks,
            completed: if status == "completed" { tasks } else { 0 },
            failed: if status == "failed" { tasks } else { 0 },
            cancelled: if status == "cancelled" { tasks } else { 0 },
            cost_micros: row.try_get(5)?,
            unpriced_tasks: row.try_get(6)?,
            duration_ms_sum: row.try_get(7)?,
        },
        status,
        durations,
    })
}

/// Finished tasks per period start (hours, or days where the granularity is coarser) and
/// status over `[from, to)`.
async fn per_period(
    store: &Store,
    workspace_id: &str,
    from: i64,
    to: i64,
    granularity: Granularity,
) -> Result<Vec<(i64, String, i64)>> {
    let parts = if granularity == Granularity::Hour {
        vec![crate::store::rollups::Part {
            source: "task_rollups_hourly",
            period: "hour_ms",
            bounds: [from, to],
            sign: 1,
        }]
    } else {
        crate::store::rollups::task_parts(from, to)
    };
    let reads = parts.iter().map(|part| {
        let (table, period, [lo, hi]) = (part.source, part.period, part.bounds);
        // Only fixed table and column names are formatted into the statement.
        let sql = format!(
            "SELECT {period}, status, CAST(SUM(tasks) AS BIGINT) FROM {table} \
             WHERE workspace_id = $1 AND {period} >= $2 AND {period} < $3 \
             GROUP BY {period}, status"
        );
        sqlx::query_as::<_, (i64, String, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(lo)
            .bind(hi)
            .fetch_all(store.pool())
    });
    // Hours taken away (a part may be a day minus its hours outside the range) count in the
    // day they are taken from.
    let mut merged: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for (part, rows) in parts
        .iter()
        .zip(futures_util::future::try_join_all(reads).await?)
    {
        for (start, status, n) in rows {
            let start = if granularity == Granularity::Hour {
                start
            } else {
                start - start.rem_euclid(24 * HOUR_MS)
            };
            *merged.entry((start, status)).or_default() += part.sign * n;
        }
    }
    Ok(merged
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((start, status), n)| (start, status, n))
        .collect())
}

impl KindRow {
    /// Multiplies every count and sum by `sign` (1 or −1).
    fn scale(&mut self, sign: i64) {
        let s = &mut self.stats;
        for v in [
            &mut s.tasks,
            &mut s.completed,
            &mut s.failed,
            &mut s.cancelled,
            &mut s.cost_micros,
            &mut s.unpriced_tasks,
            &mut s.duration_ms_sum,
        ] {
            *v *= sign;
        }
        for d in &mut self.durations {
            *d *= sign;
        }
    }
}

/// Sums rows per key, most tasks first (then by key).
fn summed<K: Ord + Clone>(rows: &[KindRow], key: impl Fn(&KindRow) -> K) -> Vec<(K, TaskStats)> {
    let mut by: BTreeMap<K, TaskStats> = BTreeMap::new();
    for row in rows {
        by.entry(key(row)).or_default().add(&row.stats);
    }
    let mut out: Vec<(K, TaskStats)> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.tasks.cmp(&a.1.tasks).then(a.0.cmp(&b.0)));
    out
}

/// Calls and cost per hour of the week in `tz`, from the hourly call rollups. An hour of a
/// zone with a half-hour offset is counted in the local hour it starts in.
async fn heatmap(
    store: &Store,
    workspace_id: &str,
    from: i64,
    to: i64,
    tz: &TimeZone,
) -> Result<Vec<HeatCell>> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT hour_ms, calls, cost_micros FROM call_totals_hourly \
         WHERE workspace_id = $1 AND hour_ms >= $2 AND hour_ms < $3",
    )
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    let mut cells: Vec<HeatCell> = (0..168)
        .map(|i| HeatCell {
            weekday: (i / 24) as u8,
            hour: (i % 24) as u8,
            calls: 0,
            cost_micros: 0,
        })
        .collect();
    for (hour_ms, calls, cost) in rows {
        let Ok(at) = Timestamp::from_millisecond(hour_ms) else {
            continue;
        };
        let local = at.to_zoned(tz.clone());
        let weekday = local.weekday().to_monday_zero_offset() as usize;
        let hour = local.hour().clamp(0, 23) as usize;
        if let Some(cell) = cells.get_mut(weekday * 24 + hour) {
            cell.calls += calls;
            cell.cost_micros += cost;
        }
    }
    Ok(cells)
}

/// The rows of `sql`, whose `$1` is the workspace and `$2`, `$3` a range.
async fn in_range<T>(
    store: &Store,
    sql: &'static str,
    workspace_id: &str,
    (from, to): (i64, i64),
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    Ok(sqlx::query_as::<_, T>(sql)
        .bind(workspace_id)
        .bind(from)
        .bind(to)
        .fetch_all(store.pool())
        .await?)
}

/// Trends over `[from_ms, to_ms)` by `granularity`, the heatmap in `tz`.
#[tracing::instrument(skip(store, tz))]
pub async fn trends(
    store: &Store,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
    granularity: Granularity,
    tz: &TimeZone,
) -> Result<TrendsReport> {
    let (from, to) = hours(from_ms, to_ms)?;
    if granularity == Granularity::Hour && to - from > MAX_HOURLY_RANGE_MS {
        return Err(Error::invalid(
            "granularity",
            "hour needs a range of at most 35 days: use day, week or month",
        ));
    }
    // The report's reads are independent: made at once, on as many connections.
    // Agents are few (a fleet, not a log): their creation times are read directly.
    let created = in_range::<(i64,)>(
        store,
        "SELECT created_at FROM agents WHERE workspace_id = $1 AND created_at >= $2 \
         AND created_at < $3",
        workspace_id,
        (from, to),
    );
    let top_tasks = in_range::<TopTaskRow>(
        store,
        // Candidates are picked before the join: twenty task lookups, not one per hour's ten
        // (twenty, so that deleted tasks among them still leave ten).
        "SELECT t.id, t.description, t.workflow, t.status, h.cost_micros, t.unpriced_calls, \
         t.finished_at FROM (SELECT task_id, cost_micros FROM task_top_hourly \
         WHERE workspace_id = $1 AND hour_ms >= $2 AND hour_ms < $3 \
         ORDER BY cost_micros DESC, task_id LIMIT 20) h JOIN tasks t ON t.id = h.task_id \
         ORDER BY h.cost_micros DESC, h.task_id LIMIT 10",
        workspace_id,
        (from, to),
    );
    let (kinds, per_hour, created, top_tasks, heatmap, top_agents) = tokio::try_join!(
        kinds(store, workspace_id, from, to),
        per_period(store, workspace_id, from, to, granularity),
        created,
        top_tasks,
        heatmap(store, workspace_id, from, to, tz),
        top_agents(store, workspace_id, from, to),
    )?;

    let mut periods: BTreeMap<i64, TaskPoint> = BTreeMap::new();
    for (hour, status, n) in per_hour {
        let start_ms = granularity.start_of(hour);
        let point = periods.entry(start_ms).or_insert(TaskPoint {
            start_ms,
            completed: 0,
            failed: 0,
            cancelled: 0,
        });
        match status.as_str() {
            "completed" => point.completed += n,
            "failed" => point.failed += n,
            _ => point.cancelled += n,
        }
    }

    let mut agents_created: BTreeMap<i64, i64> = BTreeMap::new();
    for (at,) in created {
        *agents_created.entry(granularity.start_of(at)).or_default() += 1;
    }

    let mut completion_times: Vec<DurationBucket> = (0..DURATION_BUCKETS)
        .map(|k| DurationBucket {
            above_ms: if k == 0 { 0 } else { DURATION_BOUNDS_MS[k - 1] },
            up_to_ms: DURATION_BOUNDS_MS.get(k).copied(),
            tasks: 0,
        })
        .collect();
    for row in kinds.iter().filter(|r| r.status == "completed") {
        for (bucket, n) in completion_times.iter_mut().zip(row.durations) {
            bucket.tasks += n;
        }
    }

    Ok(TrendsReport {
        from_ms: from,
        to_ms: to,
        granularity: granularity.as_str().to_owned(),
        time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
        heatmap,
        tasks: periods.into_values().collect(),
        agents_created: agents_created
            .into_iter()
            .map(|(start_ms, count)| CountPoint { start_ms, count })
            .collect(),
        workflows: summed(&kinds, |r| r.workflow.clone())
            .into_iter()
            .map(|(workflow, stats)| TaskKindRow {
                workflow,
                complexity: String::new(),
                stats,
            })
            .collect(),
        task_types: summed(&kinds, |r| (r.workflow.clone(), r.complexity.clone()))
            .into_iter()
            .map(|((workflow, complexity), stats)| TaskKindRow {
                workflow,
                complexity,
                stats,
            })
            .collect(),
        completion_times,
        top_tasks: top_tasks
            .into_iter()
            .map(
                |(id, description, workflow, status, cost_micros, unpriced, finished)| TopTask {
                    id,
                    description,
                    workflow,
                    status,
                    cost_micros,
                    price_known: unpriced == 0,
                    finished_at: finished.unwrap_or_default(),
                },
            )
            .collect(),
        top_agents,
    })
}

/// The agents with the best success rate over their calls (at least [`MIN_CALLS_TO_RANK`]),
/// then the most calls: ten at most.
async fn top_agents(
    store: &Store,
    workspace_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<AgentScore>> {
    // Each part of the range (partial days hourly, whole days daily) at once, merged below.
    let parts = crate::store::rollups::usage_parts(from, to);
    let reads = parts.iter().map(|part| {
        // Only a fixed table expression is formatted into the statement.
        let sql = format!(
            "SELECT agent_id, CAST(SUM(calls) AS BIGINT), \
             CAST(SUM(calls - failed_calls) AS BIGINT), \
             CAST(SUM(cost_micros) AS BIGINT), CAST(SUM(unpriced_calls) AS BIGINT), \
             CAST(SUM(ok_latency_ms_sum) AS BIGINT) \
             FROM {} WHERE agent_id <> '' GROUP BY agent_id",
            part.source
        );
        sqlx::query_as::<_, (String, i64, i64, i64, i64, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(part.bounds[0])
            .bind(part.bounds[1])
            .fetch_all(store.pool())
    });
    let mut merged: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for (part, rows) in parts
        .iter()
        .zip(futures_util::future::try_join_all(reads).await?)
    {
        for (agent, calls, ok, cost, unpriced, latency) in rows {
            let m = merged.entry(agent).or_default();
            for (sum, v) in m.iter_mut().zip([calls, ok, cost, unpriced, latency]) {
                *sum += part.sign * v;
            }
        }
    }
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = merged
        .into_iter()
        .map(|(agent, [calls, ok, cost, unpriced, latency])| {
            (agent, calls, ok, cost, unpriced, latency)
        })
        .collect();
    let names =
        super::costs::agent_names(store, workspace_id, super::costs::GroupBy::Agent).await?;
    let mut scores: Vec<AgentScore> = rows
        .into_iter()
        .filter(|r| r.1 >= MIN_CALLS_TO_RANK)
        .map(
            |(agent_id, calls, ok, cost_micros, unpriced_calls, latency)| AgentScore {
                label: super::costs::label(super::costs::GroupBy::Agent, &names, &agent_id),
                agent_id,
                calls,
                success_rate: ok as f64 / calls as f64,
                cost_micros,
                unpriced_calls,
                avg_latency_ms: (ok > 0).then(|| latency as f64 / ok as f64),
            },
        )
        .collect();
    scores.sort_by(|a, b| {
        b.success_rate
            .total_cmp(&a.success_rate)
            .then(b.calls.cmp(&a.calls))
            .then(a.agent_id.cmp(&b.agent_id))
    });
    scores.truncate(10);
    Ok(scores)
}

/// Comparable tasks with and without an ANALYST step over `[from_ms, to_ms)`.
#[tracing::instrument(skip(store))]
pub async fn analyst_roi(
    store: &Store,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<AnalystRoi> {
    let (from, to) = hours(from_ms, to_ms)?;
    let kinds = kinds(store, workspace_id, from, to).await?;
    let mut by: BTreeMap<(String, String), (TaskStats, TaskStats)> = BTreeMap::new();
    for row in &kinds {
        let sides = by
            .entry((row.workflow.clone(), row.complexity.clone()))
            .or_default();
        if row.analyst {
            sides.0.add(&row.stats);
        } else {
            sides.1.add(&row.stats);
        }
    }
    let (mut with_analyst, mut without_analyst, mut comparable_kinds) =
        (TaskStats::default(), TaskStats::default(), 0);
    let mut rows: Vec<RoiRow> = by
        .into_iter()
        .map(|((workflow, complexity), (with, without))| {
            if with.tasks > 0 && without.tasks > 0 {
                with_analyst.add(&with);
                without_analyst.add(&without);
                comparable_kinds += 1;
            }
            RoiRow {
                workflow,
                complexity,
                with_analyst: with,
                without_analyst: without,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.with_analyst.tasks + b.without_analyst.tasks)
            .cmp(&(a.with_analyst.tasks + a.without_analyst.tasks))
            .then(a.workflow.cmp(&b.workflow))
            .then(a.complexity.cmp(&b.complexity))
    });
    Ok(AnalystRoi {
        from_ms: from,
        to_ms: to,
        rows,
        with_analyst,
        without_analyst,
        comparable_kinds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_the_migration() {
        assert_eq!(duration_bucket(0), 0);
        assert_eq!(duration_bucket(10_000), 0);
        assert_eq!(duration_bucket(10_001), 1);
        assert_eq!(duration_bucket(86_400_000), 10);
        assert_eq!(duration_bucket(86_400_001), 11);
        let migration = include_str!("../../../migrations/sqlite/0007_task_rollups_and_health.sql");
        for bound in DURATION_BOUNDS_MS {
            assert!(migration.contains(&format!("<= {bound} THEN")), "{bound}");
        }
    }

    #[test]
    fn time_zones_parse_or_are_refused() {
        assert!(time_zone("Europe/Paris").is_ok());
        assert!(time_zone("").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
