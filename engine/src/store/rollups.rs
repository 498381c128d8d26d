//! The call rollups: what every dashboard reads, written with each call in the call's
//! transaction (by the group-commit writer, [`super::group`]): `call_rollups_hourly`, and from
//! it, by triggers in the same transaction (migration 0008), the same rows per UTC day in
//! `call_rollups_daily` (reports read whole days there) and each hour's calls and cost in
//! `call_totals_hourly` (the heatmap). [`parts`] splits a range between the hourly and daily
//! tables.
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

/// One part of a range to read from a rollup: the rows of `[bounds)` of one table, added to the
/// answer (`sign` 1) or taken from it (−1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Part {
    /// A table expression `(SELECT * FROM … WHERE workspace_id = $1 AND period >= $2 AND
    /// period < $3) r` (for [`parts`]), or the table's name (for [`task_parts`]).
    pub source: &'static str,
    /// The table's period column: `hour_ms` or `day_ms`.
    pub period: &'static str,
    /// `[from, to)` of the period column.
    pub bounds: [i64; 2],
    /// 1 to add the rows, −1 to take them away.
    pub sign: i64,
}

/// A range of the call rollups as parts to read separately (and at once, on several
/// connections) and merge with their signs: see [`split`].
pub(crate) fn parts(from: i64, to: i64) -> Vec<Part> {
    const HOURLY: &str = "(SELECT * FROM call_rollups_hourly WHERE workspace_id = $1 AND hour_ms >= $2 AND hour_ms < $3) r";
    const DAILY: &str = "(SELECT * FROM call_rollups_daily WHERE workspace_id = $1 AND day_ms >= $2 AND day_ms < $3) r";
    split(from, to, [HOURLY, DAILY])
}

/// The same parts over the task rollups (migrations 0007 and 0009); `source` is the table.
/// The hourly rollup with the narrow daily rollup's columns (`failed_calls`,
/// `ok_latency_ms_sum`), for the edges of a range read by [`usage_parts`] or by the hour.
pub(crate) const HOURLY_USAGE: &str = "(SELECT workspace_id, hour_ms, provider_kind, model, \
     agent_id, role, workflow, outcome, calls, \
     CASE WHEN outcome = 'success' THEN 0 ELSE calls END AS failed_calls, prompt_tokens, \
     completion_tokens, cached_tokens, reasoning_tokens, cost_micros, unpriced_calls, \
     CASE WHEN outcome = 'success' THEN latency_ms_sum ELSE 0 END AS ok_latency_ms_sum \
     FROM call_rollups_hourly WHERE workspace_id = $1 AND hour_ms >= $2 AND hour_ms < $3) r";

/// Like [`parts`], with whole days from `call_usage_daily` (migration 0014: no outcome, no
/// histograms, a third of the daily rollup's rows): calls, failed calls, tokens, cost, unpriced
/// calls and successful calls' latency by every dimension but the outcome.
pub(crate) fn usage_parts(from: i64, to: i64) -> Vec<Part> {
    const DAILY: &str = "(SELECT * FROM call_usage_daily WHERE workspace_id = $1 AND day_ms >= $2 AND day_ms < $3) r";
    split(from, to, [HOURLY_USAGE, DAILY])
}

pub(crate) fn task_parts(from: i64, to: i64) -> Vec<Part> {
    split(from, to, ["task_rollups_hourly", "task_rollups_daily"])
}

/// Splits `[from, to)` (whole hours) into the fewest rollup rows: whole UTC days from the daily
/// table; a partial day at either end from the hourly table when it has at most 12 of its
/// hours in the range, else as the whole day minus the hours outside the range (the daily row
/// is the exact sum of its hours, both written in one transaction). A range ending now thus
/// reads today's daily rows and no hours at all (the hours after now are empty). A range
/// within one day is read by the hour. Daily parts that touch are merged into one.
fn split(from: i64, to: i64, [hourly, daily]: [&'static str; 2]) -> Vec<Part> {
    const DAY: i64 = 24 * HOUR_MS;
    const HALF: i64 = 12 * HOUR_MS;
    let hours = |bounds: [i64; 2], sign: i64| Part {
        source: hourly,
        period: "hour_ms",
        bounds,
        sign,
    };
    let first_day = from + (DAY - from.rem_euclid(DAY)) % DAY;
    let last_day = to - to.rem_euclid(DAY);
    if first_day > last_day {
        // Within one day.
        return if from < to {
            vec![hours([from, to], 1)]
        } else {
            Vec::new()
        };
    }
    let mut out = Vec::new();
    let (mut days_from, mut days_to) = (first_day, last_day);
    if first_day > from {
        if first_day - from <= HALF {
            out.push(hours([from, first_day], 1));
        } else {
            days_from = first_day - DAY;
            out.push(hours([days_from, from], -1));
        }
    }
    if to > last_day {
        if to - last_day <= HALF {
            out.push(hours([last_day, to], 1));
        } else {
            days_to = last_day + DAY;
            out.push(hours([to, days_to], -1));
        }
    }
    if days_from < days_to {
        out.push(Part {
            source: daily,
            period: "day_ms",
            bounds: [days_from, days_to],
            sign: 1,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hours each part adds (negative where it takes away), summed per hour.
    fn coverage(parts: &[Part]) -> BTreeMap<i64, i64> {
        let mut hours = BTreeMap::new();
        for part in parts {
            let mut h = part.bounds[0];
            while h < part.bounds[1] {
                *hours.entry(h).or_insert(0) += part.sign;
                h += HOUR_MS;
            }
        }
        hours.retain(|_, n| *n != 0);
        hours
    }

    #[test]
    fn parts_cover_the_range_once() {
        const DAY: i64 = 24 * HOUR_MS;
        let hours = |from: i64, to: i64| -> BTreeMap<i64, i64> {
            (0..(to - from) / HOUR_MS)
                .map(|k| (from + k * HOUR_MS, 1))
                .collect()
        };
        // Every hour of the range counted once, none outside it, for edges of every length.
        for lead in 0..24 {
            for trail in 0..24 {
                let (from, to) = (10 * DAY - lead * HOUR_MS, 40 * DAY + trail * HOUR_MS);
                assert_eq!(
                    coverage(&parts(from, to)),
                    hours(from, to),
                    "{lead} {trail}"
                );
            }
        }
        // Short edges by the hour around the whole days.
        let (from, to) = (10 * DAY + 15 * HOUR_MS, 39 * DAY + 7 * HOUR_MS);
        let bounds: Vec<([i64; 2], i64)> =
            parts(from, to).iter().map(|p| (p.bounds, p.sign)).collect();
        assert_eq!(
            bounds,
            vec![
                ([from, 11 * DAY], 1),
                ([39 * DAY, to], 1),
                ([11 * DAY, 39 * DAY], 1)
            ]
        );
        // A range ending at 20:00: today's daily rows minus its four hours to come; a range
        // starting at 02:00: that day's rows minus its first two hours.
        let (from, to) = (10 * DAY + 2 * HOUR_MS, 39 * DAY + 20 * HOUR_MS);
        let got: Vec<(&str, [i64; 2], i64)> = parts(from, to)
            .iter()
            .map(|p| (p.period, p.bounds, p.sign))
            .collect();
        assert_eq!(
            got,
            vec![
                ("hour_ms", [10 * DAY, from], -1),
                ("hour_ms", [to, 40 * DAY], -1),
                ("day_ms", [10 * DAY, 40 * DAY], 1)
            ]
        );
        assert!(parts(from, to)[2].source.contains("call_rollups_daily"));
        assert_eq!(task_parts(from, to)[2].source, "task_rollups_daily");
        // Two long partial days and no whole one between: both days minus the hours outside.
        let (from, to) = (10 * DAY + 2 * HOUR_MS, 11 * DAY + 22 * HOUR_MS);
        assert_eq!(coverage(&parts(from, to)), hours(from, to));
        assert_eq!(parts(from, to).len(), 3);
        // Within one day: hours only, one part.
        let parts = super::parts(DAY + HOUR_MS, DAY + 5 * HOUR_MS);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].source.contains("call_rollups_hourly"));
        // Whole days exactly: the daily part only; nothing for an empty range.
        assert_eq!(super::parts(DAY, 3 * DAY).len(), 1);
        assert!(super::parts(DAY, DAY).is_empty());
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
