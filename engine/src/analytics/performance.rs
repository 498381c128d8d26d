//! `GET /api/v1/metrics/performance`: latency, time to first token and success per provider
//! and model (or agent, role, workflow), from the rollups' histograms: percentiles carry the
//! bucket error stated in [`crate::store::rollups::percentile`]. Latencies are those of
//! successful calls (a timeout says nothing about a model's speed); success counts every call.

use std::collections::BTreeMap;

use wire::analytics::{PerformanceReport, PerformanceRow};

use super::costs::GroupBy;
use crate::store::llm_calls::HOUR_MS;
use crate::store::rollups::{BUCKETS, percentile};
use crate::{Error, Result, Store};

/// What a percentile may be off by, as the report states it.
pub const PERCENTILE_ERROR: &str = "percentiles are the upper bound of a histogram bucket \
     (buckets grow 1.5× from 10 ms): never below the true value, at most 50% above it";

#[derive(Default)]
struct Acc {
    calls: i64,
    failed: i64,
    latency_sum: i64,
    ttft_sum: i64,
    ttft_calls: i64,
    latency: [i64; BUCKETS],
    ttft: [i64; BUCKETS],
}

/// The report over `[from_ms, to_ms)`, grouped by `group_by` (`Model` groups by provider and
/// model together; `Outcome` is not a grouping here).
pub async fn performance(
    store: &Store,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
    group_by: GroupBy,
) -> Result<PerformanceReport> {
    if to_ms <= from_ms {
        return Err(Error::invalid("to", "must be after from"));
    }
    if to_ms - from_ms > 400 * super::DAY_MS {
        return Err(Error::invalid("from", "the range is at most 400 days"));
    }
    let (key, name) = match group_by {
        GroupBy::Model => ("provider_kind || '/' || model", "model"),
        GroupBy::Provider => ("provider_kind", "provider"),
        GroupBy::Agent => ("agent_id", "agent"),
        GroupBy::Role => ("role", "role"),
        GroupBy::Workflow => ("workflow", "workflow"),
        GroupBy::Outcome => {
            return Err(Error::invalid(
                "group_by",
                "must be model, provider, agent, role or workflow",
            ));
        }
    };
    let from = from_ms - from_ms.rem_euclid(HOUR_MS);
    let to = to_ms + (HOUR_MS - to_ms.rem_euclid(HOUR_MS)) % HOUR_MS;
    // Calls per group and outcome, and the 51 latency columns of the successful calls only
    // (failed and cancelled calls are a third of the rollup rows: each outcome has rows of its
    // own). Each part of the range (partial days from the hourly rollup, whole ones from the
    // daily) is read at once on a connection of its own and merged here, so the sums spread
    // over the machine's cores.
    let sum = |column: String| format!("CAST(SUM({column}) AS BIGINT)");
    let mut columns = vec![
        sum("latency_ms_sum".into()),
        sum("ttft_ms_sum".into()),
        sum("ttft_calls".into()),
    ];
    columns.extend((0..BUCKETS).map(|k| sum(format!("lat_{k}"))));
    columns.extend((0..BUCKETS).map(|k| sum(format!("ttft_{k}"))));
    let columns = columns.join(", ");
    let parts = crate::store::rollups::parts(from, to);
    let read = |sql: String, lo: i64, hi: i64| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(lo)
            .bind(hi)
            .fetch_all(store.pool())
    };
    // Only fixed expressions are formatted into the statements.
    let counts = parts.iter().map(|part| {
        read(
            format!(
                "SELECT {key} AS g, outcome, CAST(SUM(calls) AS BIGINT) FROM {} \
                 GROUP BY {key}, outcome",
                part.source
            ),
            part.bounds[0],
            part.bounds[1],
        )
    });
    let latencies = parts.iter().map(|part| {
        read(
            format!(
                "SELECT {key} AS g, {columns} FROM {} WHERE outcome = 'success' GROUP BY {key}",
                part.source
            ),
            part.bounds[0],
            part.bounds[1],
        )
    });
    let (counts, latencies) = tokio::try_join!(
        futures_util::future::try_join_all(counts),
        futures_util::future::try_join_all(latencies)
    )?;
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    // Each part's rows with its sign (a part may take away the hours of a day outside the range).
    for (row, sign) in counts
        .iter()
        .zip(&parts)
        .flat_map(|(rows, part)| rows.iter().map(move |row| (row, part.sign)))
    {
        use sqlx::Row;
        let acc = groups.entry(row.try_get(0)?).or_default();
        let calls = sign * row.try_get::<i64, _>(2)?;
        acc.calls += calls;
        if row.try_get::<String, _>(1)? != "success" {
            acc.failed += calls;
        }
    }
    for (row, sign) in latencies
        .iter()
        .zip(&parts)
        .flat_map(|(rows, part)| rows.iter().map(move |row| (row, part.sign)))
    {
        use sqlx::Row;
        let acc = groups.entry(row.try_get(0)?).or_default();
        acc.latency_sum += sign * row.try_get::<i64, _>(1)?;
        acc.ttft_sum += sign * row.try_get::<i64, _>(2)?;
        acc.ttft_calls += sign * row.try_get::<i64, _>(3)?;
        for k in 0..BUCKETS {
            acc.latency[k] += sign * row.try_get::<i64, _>(4 + k)?;
            acc.ttft[k] += sign * row.try_get::<i64, _>(4 + BUCKETS + k)?;
        }
    }
    // A group whose calls were all outside the range adds up to none: left out.
    groups.retain(|_, a| a.calls != 0);
    let names = super::costs::agent_names(store, workspace_id, group_by).await?;
    let mut out: Vec<PerformanceRow> = groups
        .into_iter()
        .map(|(group, a)| {
            let ok_calls = a.calls - a.failed;
            let mean = |sum: i64, n: i64| (n > 0).then(|| sum as f64 / n as f64);
            PerformanceRow {
                label: match group_by {
                    GroupBy::Model => group.replacen('/', " · ", 1),
                    _ => super::costs::label(group_by, &names, &group),
                },
                calls: a.calls,
                failed_calls: a.failed,
                success_rate: if a.calls > 0 {
                    ok_calls as f64 / a.calls as f64
                } else {
                    0.0
                },
                avg_latency_ms: mean(a.latency_sum, ok_calls),
                p50_latency_ms: percentile(&a.latency, 0.5),
                p95_latency_ms: percentile(&a.latency, 0.95),
                p99_latency_ms: percentile(&a.latency, 0.99),
                streamed_calls: a.ttft_calls,
                avg_ttft_ms: mean(a.ttft_sum, a.ttft_calls),
                p50_ttft_ms: percentile(&a.ttft, 0.5),
                p95_ttft_ms: percentile(&a.ttft, 0.95),
                group,
            }
        })
        .collect();
    out.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.group.cmp(&b.group)));
    Ok(PerformanceReport {
        from_ms: from,
        to_ms: to,
        group_by: name.to_owned(),
        rows: out,
        percentile_error: PERCENTILE_ERROR.to_owned(),
    })
}
