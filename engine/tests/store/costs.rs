//! The cost report against an independent computation over the raw calls: a generated mix of
//! providers, models, agents, roles, workflows and outcomes over twelve days, recorded through
//! the one recording path (group commit, rollups in the same transaction).

use std::collections::BTreeMap;

use engine::analytics::costs::{CostQuery, Granularity, GroupBy, costs};
use engine::seed::ensure_seeded;
use engine::store::llm_calls::{self, NewLlmCall};
use engine::store::{agents, rollups};
use engine::store_test;
use wire::analytics::Usage;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// 2026-10-28 00:00 UTC, a Wednesday: the generated calls run into November.
const START: i64 = 1_793_145_600_000;

/// A small deterministic generator (no test should depend on chance).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn calls(ws: &str, agent_ids: &[String]) -> Vec<NewLlmCall> {
    let mut r = Lcg(7);
    let models = [
        ("openai", "gpt-4o"),
        ("anthropic", "claude-sonnet-4"),
        ("simulator", "sim-standard"),
    ];
    (0..600)
        .map(|_| {
            let (kind, model) = models[r.next(3) as usize];
            let outcome = r.next(10);
            let success = outcome < 8;
            let agent = r.next(agent_ids.len() as u64 + 1) as usize;
            NewLlmCall {
                workspace_id: ws.into(),
                agent_id: agent_ids.get(agent).cloned(),
                role: ["ANALYST", "BUILDER", "REVIEWER", ""][r.next(4) as usize].into(),
                workflow: ["feature_implementation", "bug_fix"][r.next(2) as usize].into(),
                provider_kind: kind.into(),
                model: model.into(),
                prompt_tokens: r.next(5000) as i64,
                completion_tokens: r.next(800) as i64,
                cached_tokens: r.next(300) as i64,
                reasoning_tokens: r.next(100) as i64,
                cost_micros: r.next(20_000) as i64,
                price_known: r.next(12) != 0,
                latency_ms: r.next(30_000) as i64,
                ttft_ms: (r.next(3) != 0).then(|| r.next(4_000) as i64),
                success,
                error_class: (!success).then(|| {
                    if outcome == 8 {
                        "cancelled"
                    } else {
                        "server_error"
                    }
                    .to_owned()
                }),
                attempt: 1,
                created_at: START + r.next(12 * DAY as u64) as i64,
                ..NewLlmCall::default()
            }
        })
        .collect()
}

fn usage_of(call: &NewLlmCall) -> Usage {
    Usage {
        calls: 1,
        failed_calls: i64::from(!call.success),
        prompt_tokens: call.prompt_tokens,
        completion_tokens: call.completion_tokens,
        cached_tokens: call.cached_tokens,
        reasoning_tokens: call.reasoning_tokens,
        cost_micros: call.cost_micros,
        unpriced_calls: i64::from(!call.price_known),
    }
}

/// The period start, computed from the calendar (not from the engine's arithmetic).
fn period(granularity: Granularity, ms: i64) -> i64 {
    let utc = jiff::tz::TimeZone::UTC;
    let zoned = jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(utc.clone());
    let date = zoned.date();
    let start = match granularity {
        Granularity::Hour => return ms - ms % 3_600_000,
        Granularity::Day => date,
        Granularity::Week => date
            .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
            .unwrap(),
        Granularity::Month => date.first_of_month(),
    };
    start.to_zoned(utc).unwrap().timestamp().as_millisecond()
}

fn group(by: Option<GroupBy>, call: &NewLlmCall) -> String {
    match by {
        None => String::new(),
        Some(GroupBy::Provider) => call.provider_kind.clone(),
        Some(GroupBy::Model) => call.model.clone(),
        Some(GroupBy::Agent) => call.agent_id.clone().unwrap_or_default(),
        Some(GroupBy::Role) => call.role.clone(),
        Some(GroupBy::Workflow) => call.workflow.clone(),
        Some(GroupBy::Outcome) => rollups::outcome(call).to_owned(),
    }
}

store_test!(the_cost_report_matches_the_raw_calls, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let registry = agents::list(store.pool(), &ws).await.unwrap();
    let agent_ids: Vec<String> = registry.iter().map(|a| a.id.clone()).collect();
    let generated = calls(&ws, &agent_ids);
    // Concurrently, so that the group-commit writer merges them into shared rollup rows.
    let results =
        futures_util::future::join_all(generated.iter().map(|c| llm_calls::record(&store, c)))
            .await;
    assert!(results.iter().all(Result::is_ok));

    let cases = [
        (
            START + 2 * DAY,
            START + 9 * DAY + 5,
            Granularity::Day,
            Some(GroupBy::Agent),
        ),
        (
            START,
            START + 12 * DAY,
            Granularity::Week,
            Some(GroupBy::Model),
        ),
        (
            START,
            START + 12 * DAY,
            Granularity::Month,
            Some(GroupBy::Outcome),
        ),
        (
            START + DAY,
            START + 3 * DAY,
            Granularity::Hour,
            Some(GroupBy::Provider),
        ),
        (
            START + 6 * DAY,
            START + 12 * DAY,
            Granularity::Day,
            Some(GroupBy::Role),
        ),
        (
            START,
            START + 12 * DAY,
            Granularity::Day,
            Some(GroupBy::Workflow),
        ),
        (
            START + 6 * DAY + 1,
            START + 12 * DAY,
            Granularity::Week,
            None,
        ),
        // Long partial days at both ends (read as whole days minus the hours outside), then
        // short ones (read by the hour).
        (
            START + 2 * DAY + 3 * HOUR,
            START + 9 * DAY + 20 * HOUR,
            Granularity::Day,
            Some(GroupBy::Agent),
        ),
        (
            START + DAY + 14 * HOUR,
            START + 8 * DAY + 5 * HOUR,
            Granularity::Week,
            Some(GroupBy::Model),
        ),
    ];
    for (from, to, granularity, by) in cases {
        let report = costs(
            &store,
            &ws,
            CostQuery {
                from_ms: from,
                to_ms: to,
                granularity,
                group_by: by,
            },
        )
        .await
        .unwrap();
        // Hour-aligned range, as the report states.
        let (from, to) = (
            from - from % 3_600_000,
            to + (3_600_000 - to % 3_600_000) % 3_600_000,
        );
        assert_eq!((report.from_ms, report.to_ms), (from, to));
        let mut points: BTreeMap<(i64, String), Usage> = BTreeMap::new();
        let mut groups: BTreeMap<String, Usage> = BTreeMap::new();
        let (mut total, mut previous) = (Usage::default(), Usage::default());
        for call in &generated {
            let u = usage_of(call);
            if call.created_at >= from && call.created_at < to {
                points
                    .entry((period(granularity, call.created_at), group(by, call)))
                    .or_default()
                    .add(&u);
                groups.entry(group(by, call)).or_default().add(&u);
                total.add(&u);
            } else if call.created_at >= from - (to - from) && call.created_at < from {
                previous.add(&u);
            }
        }
        let got: BTreeMap<(i64, String), Usage> = report
            .points
            .iter()
            .map(|p| ((p.start_ms, p.group.clone()), p.usage.clone()))
            .collect();
        assert_eq!(got, points, "{granularity:?} by {by:?}");
        assert_eq!(report.total, total);
        assert_eq!(report.previous, previous);
        let got: BTreeMap<String, Usage> = report
            .groups
            .iter()
            .map(|g| (g.group.clone(), g.usage.clone()))
            .collect();
        assert_eq!(got, groups);
        assert!(
            report
                .groups
                .windows(2)
                .all(|w| w[0].usage.cost_micros >= w[1].usage.cost_micros)
        );
        if by == Some(GroupBy::Agent) {
            for g in &report.groups {
                let name = registry
                    .iter()
                    .find(|a| a.id == g.group)
                    .map(|a| a.name.as_str());
                assert_eq!(g.label, name.unwrap_or("no agent"), "{}", g.group);
            }
        }
        match report.cost_change_percent {
            Some(change) => {
                let expected = (total.cost_micros - previous.cost_micros) as f64 * 100.0
                    / previous.cost_micros as f64;
                assert!((change - expected).abs() < 1e-9);
            }
            None => assert_eq!(previous.cost_micros, 0),
        }
    }

    // Bad shapes are refused, naming the parameter.
    let bad = |from, to, granularity| CostQuery {
        from_ms: from,
        to_ms: to,
        granularity,
        group_by: None,
    };
    for (q, field) in [
        (bad(START, START, Granularity::Day), "to"),
        (bad(START, START + 500 * DAY, Granularity::Month), "from"),
        (
            bad(START, START + 40 * DAY, Granularity::Hour),
            "granularity",
        ),
    ] {
        match costs(&store, &ws, q).await {
            Err(engine::Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{q:?}: {other:?}"),
        }
    }
});

/// The nearest-rank percentile of raw values.
fn exact(sorted: &[i64], p: f64) -> i64 {
    sorted[((p * sorted.len() as f64).ceil() as usize).max(1) - 1]
}

store_test!(performance_percentiles_hold_their_stated_error, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let registry = agents::list(store.pool(), &ws).await.unwrap();
    let agent_ids: Vec<String> = registry.iter().map(|a| a.id.clone()).collect();
    let generated = calls(&ws, &agent_ids);
    let results =
        futures_util::future::join_all(generated.iter().map(|c| llm_calls::record(&store, c)))
            .await;
    assert!(results.iter().all(Result::is_ok));
    // The whole data set, then ranges with long and with short partial days at the ends.
    for (from, to) in [
        (START, START + 12 * DAY),
        (START + 2 * DAY + 3 * HOUR, START + 9 * DAY + 20 * HOUR),
        (START + DAY + 14 * HOUR, START + 8 * DAY + 5 * HOUR),
    ] {
        let report =
            engine::analytics::performance::performance(&store, &ws, from, to, GroupBy::Model)
                .await
                .unwrap();
        assert_eq!(report.rows.len(), 3);
        for row in &report.rows {
            let mine: Vec<&NewLlmCall> = generated
                .iter()
                .filter(|c| format!("{}/{}", c.provider_kind, c.model) == row.group)
                .filter(|c| c.created_at >= from && c.created_at < to)
                .collect();
            assert_eq!(row.calls, mine.len() as i64);
            let ok: Vec<&&NewLlmCall> = mine.iter().filter(|c| c.success).collect();
            assert_eq!(row.failed_calls, (mine.len() - ok.len()) as i64);
            assert!((row.success_rate - ok.len() as f64 / mine.len() as f64).abs() < 1e-12);
            let mean = ok.iter().map(|c| c.latency_ms).sum::<i64>() as f64 / ok.len() as f64;
            assert!((row.avg_latency_ms.unwrap() - mean).abs() < 1e-9);
            let mut latencies: Vec<i64> = ok.iter().map(|c| c.latency_ms).collect();
            latencies.sort_unstable();
            for (p, got) in [
                (0.5, row.p50_latency_ms),
                (0.95, row.p95_latency_ms),
                (0.99, row.p99_latency_ms),
            ] {
                let (truth, got) = (exact(&latencies, p), got.unwrap());
                // The stated error: never below, at most 1.5× above (from 10 ms up).
                assert!(
                    got >= truth && got as f64 <= (truth.max(10) as f64) * 1.5,
                    "p{p}: {got} vs {truth}"
                );
            }
            let mut ttfts: Vec<i64> = ok.iter().filter_map(|c| c.ttft_ms).collect();
            ttfts.sort_unstable();
            assert_eq!(row.streamed_calls, ttfts.len() as i64);
            let (truth, got) = (exact(&ttfts, 0.95), row.p95_ttft_ms.unwrap());
            assert!(got >= truth && got as f64 <= (truth.max(10) as f64) * 1.5);
            assert!(row.label.contains(" · "));
        }
        assert!(!report.percentile_error.is_empty());
    }
    let (from, to) = (START, START + 12 * DAY);
    // Outcome is not a grouping for speed.
    assert!(
        engine::analytics::performance::performance(&store, &ws, from, to, GroupBy::Outcome)
            .await
            .is_err()
    );
});

store_test!(
    the_calls_explorer_pages_through_filters_by_keyset,
    |store| {
        use engine::store::llm_calls::CallFilter;
        use engine::store::page::PageRequest;
        let ws = ensure_seeded(&store).await.unwrap().workspace_id;
        let registry = agents::list(store.pool(), &ws).await.unwrap();
        let agent_ids: Vec<String> = registry.iter().map(|a| a.id.clone()).collect();
        let generated = calls(&ws, &agent_ids);
        let ids =
            futures_util::future::join_all(generated.iter().map(|c| llm_calls::record(&store, c)))
                .await
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
        let filters = [
            CallFilter::default(),
            CallFilter {
                provider: Some("openai".into()),
                ..CallFilter::default()
            },
            CallFilter {
                outcome: Some("failed".into()),
                from: Some(START + DAY),
                ..CallFilter::default()
            },
            CallFilter {
                outcome: Some("cancelled".into()),
                ..CallFilter::default()
            },
            CallFilter {
                agent: Some(agent_ids[1].clone()),
                to: Some(START + 6 * DAY),
                ..CallFilter::default()
            },
            CallFilter {
                error_class: Some("server_error".into()),
                model: Some("gpt-4o".into()),
                ..CallFilter::default()
            },
            CallFilter {
                role: Some("BUILDER".into()),
                workflow: Some("bug_fix".into()),
                ..CallFilter::default()
            },
        ];
        for filter in filters {
            let keep = |c: &NewLlmCall| {
                filter.from.is_none_or(|f| c.created_at >= f)
                    && filter.to.is_none_or(|t| c.created_at < t)
                    && filter
                        .provider
                        .as_ref()
                        .is_none_or(|p| &c.provider_kind == p)
                    && filter.model.as_ref().is_none_or(|m| &c.model == m)
                    && filter
                        .agent
                        .as_ref()
                        .is_none_or(|a| c.agent_id.as_ref() == Some(a))
                    && filter
                        .outcome
                        .as_ref()
                        .is_none_or(|o| rollups::outcome(c) == o)
                    && filter
                        .error_class
                        .as_ref()
                        .is_none_or(|e| c.error_class.as_ref() == Some(e))
                    && filter.role.as_ref().is_none_or(|r| &c.role == r)
                    && filter.workflow.as_ref().is_none_or(|w| &c.workflow == w)
            };
            let mut expected: Vec<(i64, String)> = generated
                .iter()
                .zip(&ids)
                .filter(|(c, _)| keep(c))
                .map(|(c, id)| (c.created_at, id.clone()))
                .collect();
            expected.sort_by(|a, b| b.cmp(a));
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let request = PageRequest::parse(Some("37"), cursor.as_deref()).unwrap();
                let page = llm_calls::page(&store, &ws, &filter, &request)
                    .await
                    .unwrap();
                assert!(page.items.len() <= 37);
                seen.extend(page.items.iter().map(|c| (c.created_at, c.id.clone())));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, expected, "{filter:?}");
        }
        let bad = CallFilter {
            outcome: Some("maybe".into()),
            ..CallFilter::default()
        };
        let request = PageRequest::parse(None, None).unwrap();
        assert!(llm_calls::page(&store, &ws, &bad, &request).await.is_err());
    }
);
