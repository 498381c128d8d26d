//! The call rollups: what every dashboard reads, written with each call in the call's
//! transaction (by the group-commit writer, [`super::group`]): `call_rollups_hourly`, and from
//! it, by triggers in the same transaction (migration 0008), the same rows per UTC day in
//! `call_rollups_daily` (reports read whole days there) and each hour's calls and cost in
//! `call_totals_hourly` (the heatmap). [`source`] reads a range from the hourly and daily
//! tables as one.
//!
//! One row per (workspace, hour, provider kind, model, agent, role, workflow, outcome) with
//! calls, tokens, cost, unpriced calls, latency and time-to-first-token sums, and fixed
//! log-scale histograms of latency and TTFT ([`BOUNDS_MS`]), from which percentiles are read
//! with a stated error ([`percentile`]). Migration 0006 made the table and filled it from the
//! calls recorded before, with the same buckets.

use std::collections::BTreeMap;

use super::batch::{Batch, Value};
use super::llm_calls::{HOUR_MS, NewLlmCall};

/// Upper bounds (inclusive, ms) of the histogram buckets: `floor(10 · 1.5^k)`. Bucket 0 holds
/// 0–10 ms, bucket k holds `(BOUNDS_MS[k-1], BOUNDS_MS[k]]`, and the last bucket everything
/// above the last bound. The same numbers are in migration 0006.
pub const BOUNDS_MS: [i64; 23] = [
    10, 15, 22, 33, 50, 75, 113, 170, 256, 384, 576, 864, 1297, 1946, 2919, 4378, 6568, 9852,
    14778, 22168, 33252, 49878, 74818,
];

/// Buckets per histogram.
pub const BUCKETS: usize = BOUNDS_MS.len() + 1;

/// The bucket a duration falls in.
pub fn bucket(ms: i64) -> usize {
    BOUNDS_MS.partition_point(|&bound| bound < ms)
}

/// The `p`-th percentile (0 < p ≤ 1) of a histogram: the upper bound of the bucket that holds
/// it — never below the true value, at most 1.5× above it from 10 ms up (buckets grow by
/// 1.5×). `None` for an empty histogram; for the open last bucket, its lower bound.
pub fn percentile(histogram: &[i64; BUCKETS], p: f64) -> Option<i64> {
    let total: i64 = histogram.iter().sum();
    if total == 0 {
        return None;
    }
    // The rank of the percentile, 1-based (nearest rank).
    let rank = ((p.clamp(0.0, 1.0) * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (k, n) in histogram.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(
                BOUNDS_MS
                    .get(k)
                    .copied()
                    .unwrap_or(BOUNDS_MS[BOUNDS_MS.len() - 1]),
            );
        }
    }
    None
}

/// `success`, `failed` or `cancelled`.
pub fn outcome(call: &NewLlmCall) -> &'static str {
    if call.success {
        "success"
    } else if call.error_class.as_deref() == Some("cancelled") {
        "cancelled"
    } else {
        "failed"
    }
}

/// The bucket columns, `lat_0, …, ttft_23`.
fn bucket_columns() -> Vec<String> {
    (0..BUCKETS)
        .map(|k| format!("lat_{k}"))
        .chain((0..BUCKETS).map(|k| format!("ttft_{k}")))
        .collect()
}

const KEYS: [&str; 8] = [
    "workspace_id",
    "hour_ms",
    "provider_kind",
    "model",
    "agent_id",
    "role",
    "workflow",
    "outcome",
];

const SUMS: [&str; 10] = [
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost_micros",
    "unpriced_calls",
    "latency_ms_sum",
    "ttft_ms_sum",
    "ttft_calls",
];

type Key<'a> = (
    &'a str,
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

/// Adds the calls to their rollup rows: deltas merged per row first (an upsert may not touch one
/// row twice in one statement on Postgres), then as few statements as the batch's backend likes.
pub(crate) fn add<'a>(batch: &mut Batch<'a>, calls: &[&'a NewLlmCall]) {
    let mut rows: BTreeMap<Key<'a>, Vec<i64>> = BTreeMap::new();
    for call in calls {
        let key = (
            call.workspace_id.as_str(),
            call.created_at - call.created_at.rem_euclid(HOUR_MS),
            call.provider_kind.as_str(),
            call.model.as_str(),
            call.agent_id.as_deref().unwrap_or(""),
            call.role.as_str(),
            call.workflow.as_str(),
            outcome(call),
        );
        let d = rows
            .entry(key)
            .or_insert_with(|| vec![0; SUMS.len() + 2 * BUCKETS]);
        d[0] += 1;
        d[1] += call.prompt_tokens;
        d[2] += call.completion_tokens;
        d[3] += call.cached_tokens;
        d[4] += call.reasoning_tokens;
        d[5] += call.cost_micros;
        d[6] += i64::from(!call.price_known);
        d[7] += call.latency_ms;
        d[SUMS.len() + bucket(call.latency_ms)] += 1;
        if let Some(ttft) = call.ttft_ms {
            d[8] += ttft;
            d[9] += 1;
            d[SUMS.len() + BUCKETS + bucket(ttft)] += 1;
        }
    }
    let rows: Vec<(Key<'a>, Vec<i64>)> = rows.into_iter().collect();
    // A bulk load merges thousands of rows: statements are cut to keep under both backends'
    // bind limits and, on SQLite, short (its statements are prepared per shape and its
    // multi-row inserts slow down as they grow), while Postgres prefers fewer round trips.
    let per_statement = if batch.is_sqlite() { 16 } else { 128 };
    for chunk in rows.chunks(per_statement) {
        upsert(batch, chunk);
    }
}

/// The upsert statement of `rows` rows, built once per row count (it is long: 66 columns).
fn upsert_sql(batch: &Batch<'_>, rows: usize) -> String {
    let buckets = bucket_columns();
    let counted: Vec<&str> = SUMS
        .iter()
        .copied()
        .chain(buckets.iter().map(String::as_str))
        .collect();
    let updates: Vec<String> = counted
        .iter()
        .map(|c| format!("{c} = call_rollups_hourly.{c} + excluded.{c}"))
        .collect();
    // Only fixed column names and placeholders are formatted into the statement.
    format!(
        "INSERT INTO call_rollups_hourly ({}, {}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
        KEYS.join(", "),
        counted.join(", "),
        batch.rows(rows, KEYS.len() + counted.len()),
        KEYS.join(", "),
        updates.join(", ")
    )
}

/// One upsert statement for merged rows.
fn upsert<'a>(batch: &mut Batch<'a>, rows: &[(Key<'a>, Vec<i64>)]) {
    if rows.is_empty() {
        return;
    }
    // The statements per backend and row count, built once.
    static SQL: std::sync::Mutex<BTreeMap<(bool, usize), String>> =
        std::sync::Mutex::new(BTreeMap::new());
    let key = (batch.is_sqlite(), rows.len());
    let sql = {
        let mut cache = SQL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .entry(key)
            .or_insert_with(|| upsert_sql(batch, rows.len()))
            .clone()
    };
    let mut values: Vec<Value<'a>> = Vec::with_capacity(rows.len() * 66);
    for ((ws, hour, kind, model, agent, role, workflow, outcome), d) in rows {
        values.extend([
            Value::Text(ws),
            Value::Int(*hour),
            Value::Text(kind),
            Value::Text(model),
            Value::Text(agent),
            Value::Text(role),
            Value::Text(workflow),
            Value::Text(outcome),
        ]);
        values.extend(d.iter().map(|v| Value::Int(*v)));
    }
    batch.push(sql, values);
}

/// A range of rollup rows as one table expression: whole UTC days from `call_rollups_daily`,
/// the partial days at either end from `call_rollups_hourly` (both with every column, the
/// period start named `hour_ms`). Binds `$1` the workspace and `$2`…`$7` the values returned, in
/// that order. A 30-day report reads 30 days of daily rows and at most 46 hours of hourly ones
/// instead of 720 hours.
pub(crate) fn source(from: i64, to: i64) -> (&'static str, [i64; 6]) {
    const DAY: i64 = 24 * HOUR_MS;
    let first_day = from + (DAY - from.rem_euclid(DAY)) % DAY;
    let last_day = to - to.rem_euclid(DAY);
    let sql = "(SELECT * FROM call_rollups_hourly WHERE workspace_id = $1 \
         AND hour_ms >= $2 AND hour_ms < $3 \
         UNION ALL SELECT * FROM call_rollups_daily WHERE workspace_id = $1 \
         AND day_ms >= $4 AND day_ms < $5 \
         UNION ALL SELECT * FROM call_rollups_hourly WHERE workspace_id = $1 \
         AND hour_ms >= $6 AND hour_ms < $7) r";
    if first_day < last_day {
        (sql, [from, first_day, first_day, last_day, last_day, to])
    } else {
        // No whole day in the range: hours only.
        (sql, [from, to, 0, 0, 0, 0])
    }
}

/// The same range as [`source`], as the parts to read separately (and at once, on several
/// connections): each a table expression `(SELECT * FROM … WHERE workspace_id = $1 AND period
/// >= $2 AND period < $3) r` with its two bounds. Empty parts are left out.
pub(crate) fn parts(from: i64, to: i64) -> Vec<(&'static str, [i64; 2])> {
    const HOURLY: &str = "(SELECT * FROM call_rollups_hourly WHERE workspace_id = $1 AND hour_ms >= $2 AND hour_ms < $3) r";
    const DAILY: &str = "(SELECT * FROM call_rollups_daily WHERE workspace_id = $1 AND day_ms >= $2 AND day_ms < $3) r";
    split(from, to)
        .into_iter()
        .map(|(daily, bounds)| (if daily { DAILY } else { HOURLY }, bounds))
        .collect()
}

/// The same parts of a range over the task rollups (migrations 0007 and 0009): each the table
/// (`task_rollups_hourly` or `task_rollups_daily`), its period column (`hour_ms` or `day_ms`)
/// and the part's bounds.
pub(crate) fn task_parts(from: i64, to: i64) -> Vec<(&'static str, &'static str, [i64; 2])> {
    split(from, to)
        .into_iter()
        .map(|(daily, bounds)| {
            if daily {
                ("task_rollups_daily", "day_ms", bounds)
            } else {
                ("task_rollups_hourly", "hour_ms", bounds)
            }
        })
        .collect()
}

/// The non-empty parts of `[from, to)`: whole UTC days (`true`) and the hours of the partial
/// days at either end (`false`).
fn split(from: i64, to: i64) -> Vec<(bool, [i64; 2])> {
    let (_, [a, b, c, d, e, f]) = source(from, to);
    [(false, [a, b]), (true, [c, d]), (false, [e, f])]
        .into_iter()
        .filter(|(_, [lo, hi])| lo < hi)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_range_once() {
        const DAY: i64 = 24 * HOUR_MS;
        // Two partial days around 28 whole ones.
        let (from, to) = (10 * DAY + 5 * HOUR_MS, 39 * DAY + 7 * HOUR_MS);
        let parts = parts(from, to);
        let bounds: Vec<[i64; 2]> = parts.iter().map(|(_, b)| *b).collect();
        assert_eq!(
            bounds,
            vec![[from, 11 * DAY], [11 * DAY, 39 * DAY], [39 * DAY, to]]
        );
        assert!(parts[1].0.contains("call_rollups_daily"));
        // Within one day: hours only, one part.
        let parts = super::parts(DAY + HOUR_MS, DAY + 5 * HOUR_MS);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].0.contains("call_rollups_hourly"));
        // Whole days exactly: the daily part only.
        assert_eq!(super::parts(DAY, 3 * DAY).len(), 1);
    }

    #[test]
    fn buckets_match_the_migration() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(10), 0);
        assert_eq!(bucket(11), 1);
        assert_eq!(bucket(15), 1);
        assert_eq!(bucket(74_818), 22);
        assert_eq!(bucket(74_819), 23);
        for (k, b) in BOUNDS_MS.iter().enumerate() {
            assert_eq!(*b, (10.0 * 1.5_f64.powi(k as i32)).floor() as i64);
        }
    }

    #[test]
    fn percentiles_are_never_below_and_at_most_half_again_above() {
        let values: Vec<i64> = (1..=1000).map(|i| i * 37 % 20_000 + 10).collect();
        let mut histogram = [0; BUCKETS];
        for v in &values {
            histogram[bucket(*v)] += 1;
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for p in [0.5, 0.95, 0.99] {
            let exact = sorted[((p * sorted.len() as f64).ceil() as usize).max(1) - 1];
            let read = percentile(&histogram, p).unwrap();
            assert!(
                read >= exact && read as f64 <= exact as f64 * 1.5,
                "p{p}: {read} vs {exact}"
            );
        }
        assert_eq!(percentile(&[0; BUCKETS], 0.5), None);
    }
}
