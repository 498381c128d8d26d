//! `GET /api/v1/metrics/costs`: cost and usage over a range, per period and per group, with the
//! trend against the range before. Read from the rollups (never the calls themselves): whole
//! days from the narrow `call_usage_daily`, partial days and hours from `call_rollups_hourly`,
//! grouped in SQL by hour or UTC day and folded into weeks and months here.

use std::collections::BTreeMap;

use wire::analytics::{CostGroup, CostPoint, CostReport, Usage};

use super::DAY_MS;
use crate::store::llm_calls::HOUR_MS;
use crate::{Error, Result, Store};

/// The length of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// UTC hours.
    Hour,
    /// UTC days.
    Day,
    /// Weeks from Monday 00:00 UTC.
    Week,
    /// Calendar months in UTC.
    Month,
}

impl Granularity {
    /// Parses `hour`, `day`, `week` or `month`.
    pub fn parse(raw: &str) -> Result<Granularity> {
        Ok(match raw {
            "hour" => Granularity::Hour,
            "day" => Granularity::Day,
            "week" => Granularity::Week,
            "month" => Granularity::Month,
            _ => {
                return Err(Error::invalid(
                    "granularity",
                    "must be hour, day, week or month",
                ));
            }
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    /// The start of the period holding `ms` (an hour or a UTC midnight, as grouped in SQL).
    pub(crate) fn start_of(self, ms: i64) -> i64 {
        match self {
            Granularity::Hour => ms - ms.rem_euclid(HOUR_MS),
            Granularity::Day => ms - ms.rem_euclid(DAY_MS),
            Granularity::Week => {
                let day = ms - ms.rem_euclid(DAY_MS);
                // 1970-01-01 was a Thursday: Monday is 3 days before.
                let since_monday = (day / DAY_MS + 3).rem_euclid(7);
                day - since_monday * DAY_MS
            }
            Granularity::Month => jiff::Timestamp::from_millisecond(ms)
                .map(|t| {
                    let date = t.to_zoned(jiff::tz::TimeZone::UTC).date().first_of_month();
                    date.to_zoned(jiff::tz::TimeZone::UTC)
                        .map_or(ms, |z| z.timestamp().as_millisecond())
                })
                .unwrap_or(ms),
        }
    }
}

/// A dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Provider kind.
    Provider,
    /// Model.
    Model,
    /// Agent (id; labelled with its name).
    Agent,
    /// Role of the step.
    Role,
    /// Workflow of the task.
    Workflow,
    /// `success`, `failed` or `cancelled`.
    Outcome,
}

impl GroupBy {
    /// Parses `provider`, `model`, `agent`, `role`, `workflow` or `outcome`.
    pub fn parse(raw: &str) -> Result<GroupBy> {
        Ok(match raw {
            "provider" => GroupBy::Provider,
            "model" => GroupBy::Model,
            "agent" => GroupBy::Agent,
            "role" => GroupBy::Role,
            "workflow" => GroupBy::Workflow,
            "outcome" => GroupBy::Outcome,
            _ => {
                return Err(Error::invalid(
                    "group_by",
                    "must be provider, model, agent, role, workflow or outcome",
                ));
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            GroupBy::Provider => "provider",
            GroupBy::Model => "model",
            GroupBy::Agent => "agent",
            GroupBy::Role => "role",
            GroupBy::Workflow => "workflow",
            GroupBy::Outcome => "outcome",
        }
    }

    fn column(self) -> &'static str {
        match self {
            GroupBy::Provider => "provider_kind",
            GroupBy::Model => "model",
            GroupBy::Agent => "agent_id",
            GroupBy::Role => "role",
            GroupBy::Workflow => "workflow",
            GroupBy::Outcome => "outcome",
        }
    }
}

/// What to report on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostQuery {
    /// Range start, Unix ms.
    pub from_ms: i64,
    /// Range end, Unix ms (exclusive).
    pub to_ms: i64,
    /// Period length.
    pub granularity: Granularity,
    /// Grouping, if any.
    pub group_by: Option<GroupBy>,
}

/// The Analytics page's ranges, ending now: `24h` by hour, `7d` and `30d` by day, `90d` by
/// week. Returns (from, to, granularity).
pub fn preset(range: &str, now_ms: i64) -> Result<(i64, i64, Granularity)> {
    let (span, granularity) = match range {
        "24h" => (DAY_MS, Granularity::Hour),
        "7d" => (7 * DAY_MS, Granularity::Day),
        "30d" => (30 * DAY_MS, Granularity::Day),
        "90d" => (90 * DAY_MS, Granularity::Week),
        _ => return Err(Error::invalid("range", "must be 24h, 7d, 30d or 90d")),
    };
    let to = now_ms + (HOUR_MS - now_ms.rem_euclid(HOUR_MS)) % HOUR_MS;
    Ok((to - span, to, granularity))
}

/// A range the Analytics pages offer: a preset (see [`preset`]) or `custom` from the first
/// day `from` (`YYYY-MM-DD`) to the last day `to`, both UTC and included, by hour up to two
/// days, by day up to 62, by week up to 200, else by month. Returns (from, to, granularity).
pub fn page_range(
    range: &str,
    from: &str,
    to: &str,
    now_ms: i64,
) -> Result<(i64, i64, Granularity)> {
    if range != "custom" {
        return preset(range, now_ms);
    }
    let day = |field: &'static str, raw: &str| -> Result<i64> {
        let date: jiff::civil::Date = raw
            .parse()
            .map_err(|_| Error::invalid(field, "must be a date like 2026-11-23"))?;
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| Error::invalid(field, "is out of range"))
    };
    let (first, last) = (day("from", from)?, day("to", to)?);
    if last < first {
        return Err(Error::invalid("to", "must not be before from"));
    }
    let end = last + DAY_MS;
    if end - first > MAX_RANGE_MS {
        return Err(Error::invalid("from", "the range is at most 400 days"));
    }
    let granularity = match (end - first) / DAY_MS {
        0..=2 => Granularity::Hour,
        3..=62 => Granularity::Day,
        63..=200 => Granularity::Week,
        _ => Granularity::Month,
    };
    Ok((first, end, granularity))
}

/// The longest range a report covers (about 13 months).
pub(crate) const MAX_RANGE_MS: i64 = 400 * DAY_MS;
/// The longest range reported by the hour.
pub(crate) const MAX_HOURLY_RANGE_MS: i64 = 35 * DAY_MS;

type Row = (i64, String, i64, i64, i64, i64, i64, i64, i64, i64);

fn usage(r: &Row) -> Usage {
    Usage {
        calls: r.2,
        failed_calls: r.3,
        prompt_tokens: r.4,
        completion_tokens: r.5,
        cached_tokens: r.6,
        reasoning_tokens: r.7,
        cost_micros: r.8,
        unpriced_calls: r.9,
    }
}

/// Reads a range's rollups, summed per (hour or day, group), ordered by both: by the hour from
/// the hourly rows only; otherwise in the parts [`crate::store::rollups::parts`] makes (whole
/// days from the daily rollup), read at once and merged with their signs.
async fn read(
    store: &Store,
    workspace_id: &str,
    from: i64,
    to: i64,
    by_hour: bool,
    group: Option<GroupBy>,
) -> Result<Vec<Row>> {
    use crate::store::rollups::{HOURLY_USAGE, Part, parts, usage_parts};
    // Whole days from the narrow daily rollup, unless grouped by outcome (only the wide one
    // keeps it); by the hour from the hourly rollup with the narrow one's columns.
    let parts = if by_hour {
        vec![Part {
            source: HOURLY_USAGE,
            period: "hour_ms",
            bounds: [from, to],
            sign: 1,
        }]
    } else if group == Some(GroupBy::Outcome) {
        parts(from, to)
    } else {
        usage_parts(from, to)
    };
    let failed = if by_hour || group != Some(GroupBy::Outcome) {
        "failed_calls"
    } else {
        "CASE WHEN outcome = 'success' THEN 0 ELSE calls END"
    };
    let reads = parts.iter().map(|part| {
        let column = part.period;
        let period = if by_hour {
            column.to_owned()
        } else {
            format!("{column} - ({column} % 86400000)")
        };
        let (group, grouped) = match group {
            Some(g) => (g.column(), format!("{period}, {}", g.column())),
            // Postgres refuses a constant in GROUP BY.
            None => ("''", period.clone()),
        };
        // Only fixed column names and expressions are formatted into the statement.
        let sql = format!(
            "SELECT {period} AS p, {group} AS g, CAST(SUM(calls) AS BIGINT), \
             CAST(SUM({failed}) AS BIGINT), \
             CAST(SUM(prompt_tokens) AS BIGINT), CAST(SUM(completion_tokens) AS BIGINT), \
             CAST(SUM(cached_tokens) AS BIGINT), CAST(SUM(reasoning_tokens) AS BIGINT), \
             CAST(SUM(cost_micros) AS BIGINT), CAST(SUM(unpriced_calls) AS BIGINT) \
             FROM {} GROUP BY {grouped}",
            part.source
        );
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(part.bounds[0])
            .bind(part.bounds[1])
            .fetch_all(store.pool())
    });
    let mut merged: BTreeMap<(i64, String), [i64; 8]> = BTreeMap::new();
    for (part, rows) in parts
        .iter()
        .zip(futures_util::future::try_join_all(reads).await?)
    {
        for (p, g, a, b, c, d, e, f, h, i) in rows {
            let sums = merged.entry((p, g)).or_default();
            for (sum, v) in sums.iter_mut().zip([a, b, c, d, e, f, h, i]) {
                *sum += part.sign * v;
            }
        }
    }
    // A group whose calls were all outside the range adds up to nothing: left out.
    Ok(merged
        .into_iter()
        .filter(|(_, sums)| sums.iter().any(|v| *v != 0))
        .map(|((p, g), [a, b, c, d, e, f, h, i])| (p, g, a, b, c, d, e, f, h, i))
        .collect())
}

/// The names of a workspace's agents by id, when grouping by agent (else empty).
pub(crate) async fn agent_names(
    store: &Store,
    workspace_id: &str,
    by: GroupBy,
) -> Result<BTreeMap<String, String>> {
    if by != GroupBy::Agent {
        return Ok(BTreeMap::new());
    }
    Ok(
        sqlx::query_as::<_, (String, String)>(
            "SELECT id, name FROM agents WHERE workspace_id = $1",
        )
        .bind(workspace_id)
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .collect(),
    )
}

/// A group as people read it: an agent's name, "no agent", "deleted agent", or the group.
pub(crate) fn label(by: GroupBy, names: &BTreeMap<String, String>, group: &str) -> String {
    match by {
        GroupBy::Agent if group.is_empty() => "no agent".to_owned(),
        GroupBy::Agent => names
            .get(group)
            .cloned()
            .unwrap_or_else(|| "deleted agent".to_owned()),
        _ if group.is_empty() => "—".to_owned(),
        _ => group.to_owned(),
    }
}

/// Cost and usage of a workspace's calls over `q`'s range.
pub async fn costs(store: &Store, workspace_id: &str, q: CostQuery) -> Result<CostReport> {
    if q.to_ms <= q.from_ms {
        return Err(Error::invalid("to", "must be after from"));
    }
    let from = q.from_ms - q.from_ms.rem_euclid(HOUR_MS);
    let to = q.to_ms + (HOUR_MS - q.to_ms.rem_euclid(HOUR_MS)) % HOUR_MS;
    if to - from > MAX_RANGE_MS {
        return Err(Error::invalid("from", "the range is at most 400 days"));
    }
    if q.granularity == Granularity::Hour && to - from > MAX_HOURLY_RANGE_MS {
        return Err(Error::invalid(
            "granularity",
            "hour needs a range of at most 35 days: use day, week or month",
        ));
    }
    // The range and the one before it (for the trend), read at once.
    let span = to - from;
    let (rows, before) = tokio::try_join!(
        read(
            store,
            workspace_id,
            from,
            to,
            q.granularity == Granularity::Hour,
            q.group_by,
        ),
        read(store, workspace_id, from - span, from, false, None)
    )?;
    let mut points: BTreeMap<(i64, String), Usage> = BTreeMap::new();
    let mut groups: BTreeMap<String, Usage> = BTreeMap::new();
    let mut total = Usage::default();
    for row in &rows {
        let u = usage(row);
        points
            .entry((q.granularity.start_of(row.0), row.1.clone()))
            .or_default()
            .add(&u);
        groups.entry(row.1.clone()).or_default().add(&u);
        total.add(&u);
    }
    let mut previous = Usage::default();
    for row in before {
        previous.add(&usage(&row));
    }
    let names = agent_names(store, workspace_id, q.group_by.unwrap_or(GroupBy::Provider)).await?;
    let mut groups: Vec<CostGroup> = groups
        .into_iter()
        .map(|(group, usage)| CostGroup {
            label: q
                .group_by
                .map_or_else(|| "—".to_owned(), |by| label(by, &names, &group)),
            group,
            usage,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.usage
            .cost_micros
            .cmp(&a.usage.cost_micros)
            .then(b.usage.calls.cmp(&a.usage.calls))
            .then(a.group.cmp(&b.group))
    });
    Ok(CostReport {
        from_ms: from,
        to_ms: to,
        granularity: q.granularity.as_str().to_owned(),
        group_by: q.group_by.map(|g| g.as_str().to_owned()),
        points: points
            .into_iter()
            .map(|((start_ms, group), usage)| CostPoint {
                start_ms,
                group,
                usage,
            })
            .collect(),
        groups,
        cost_change_percent: (previous.cost_micros > 0).then(|| {
            (total.cost_micros - previous.cost_micros) as f64 * 100.0 / previous.cost_micros as f64
        }),
        total,
        previous,
    })
}

/// Exact dollars for a CSV cell: micro-USD with six decimals, no rounding.
fn dollars(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}

/// The report's points as CSV, one row per period and group, for spreadsheets: the period's
/// start in RFC 3339 (UTC), exact dollars, and the unpriced calls beside the cost they are
/// missing from.
pub fn to_csv(report: &CostReport) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| Error::Config(format!("writing CSV: {e}"));
    out.write_record([
        "period_start",
        "group",
        "label",
        "calls",
        "failed_calls",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "cost_usd",
        "unpriced_calls",
    ])
    .map_err(failed)?;
    let labels: BTreeMap<&str, &str> = report
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.label.as_str()))
        .collect();
    for p in &report.points {
        let start = jiff::Timestamp::from_millisecond(p.start_ms)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let u = &p.usage;
        out.write_record([
            start,
            p.group.clone(),
            labels
                .get(p.group.as_str())
                .copied()
                .unwrap_or("")
                .to_owned(),
            u.calls.to_string(),
            u.failed_calls.to_string(),
            u.prompt_tokens.to_string(),
            u.completion_tokens.to_string(),
            u.cached_tokens.to_string(),
            u.reasoning_tokens.to_string(),
            dollars(u.cost_micros),
            u.unpriced_calls.to_string(),
        ])
        .map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Config(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Config(format!("writing CSV: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_where_calendars_do() {
        // 2026-11-18 (a Wednesday) 13:45 UTC.
        let t = 1_795_009_500_000;
        assert_eq!(Granularity::Hour.start_of(t), 1_795_006_800_000);
        assert_eq!(Granularity::Day.start_of(t), 1_794_960_000_000);
        // Monday 2026-11-16.
        assert_eq!(Granularity::Week.start_of(t), 1_794_787_200_000);
        // 2026-11-01.
        assert_eq!(Granularity::Month.start_of(t), 1_793_491_200_000);
    }

    #[test]
    fn csv_cells_are_exact_and_quoted() {
        let report = CostReport {
            from_ms: 0,
            to_ms: HOUR_MS,
            granularity: "hour".into(),
            group_by: Some("agent".into()),
            points: vec![CostPoint {
                start_ms: 1_795_006_800_000,
                group: "a1".into(),
                usage: Usage {
                    calls: 3,
                    cost_micros: 1_234_567,
                    unpriced_calls: 1,
                    ..Usage::default()
                },
            }],
            groups: vec![CostGroup {
                group: "a1".into(),
                label: "Builder, senior".into(),
                usage: Usage::default(),
            }],
            total: Usage::default(),
            previous: Usage::default(),
            cost_change_percent: None,
        };
        let csv = to_csv(&report).unwrap();
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("period_start,group,label,calls")
        );
        assert_eq!(
            lines.next().unwrap(),
            "2026-11-18T13:00:00Z,a1,\"Builder, senior\",3,0,0,0,0,0,1.234567,1"
        );
    }
}
