//! Trends and the ANALYST ROI against independent computations over the raw rows: generated
//! tasks reach their final state with plain `UPDATE`s (so the migration's trigger writes the
//! task rollups, whatever code path finishes a task), calls are recorded through the one
//! recording path.

use std::collections::BTreeMap;

use engine::analytics::costs::Granularity;
use engine::analytics::tasks::{analyst_roi, time_zone, trends};
use engine::seed::ensure_seeded;
use engine::store::agents;
use engine::store::llm_calls::{self, NewLlmCall};
use engine::store::tasks::{self, TaskFilter};
use engine::store_test;
use wire::analytics::TaskStats;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// 2026-10-28 00:00 UTC.
const START: i64 = 1_793_145_600_000;
/// Written out here rather than taken from the engine: 10 s, 30 s, 1, 2, 5, 10, 30 min,
/// 1, 2, 6, 24 h.
const BOUNDS: [i64; 11] = [
    10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000,
    86_400_000,
];

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

#[derive(Clone)]
struct GenTask {
    id: String,
    workflow: &'static str,
    complexity: &'static str,
    analyst: bool,
    status: &'static str,
    cost: i64,
    unpriced: i64,
    created: i64,
    started: Option<i64>,
    finished: i64,
}

impl GenTask {
    fn duration(&self) -> i64 {
        (self.finished - self.started.unwrap_or(self.created)).max(0)
    }

    fn stats(&self) -> TaskStats {
        TaskStats {
            tasks: 1,
            completed: i64::from(self.status == "completed"),
            failed: i64::from(self.status == "failed"),
            cancelled: i64::from(self.status == "cancelled"),
            cost_micros: self.cost,
            unpriced_tasks: i64::from(self.unpriced > 0),
            duration_ms_sum: self.duration(),
        }
    }
}

fn generate() -> Vec<GenTask> {
    let mut r = Lcg(11);
    let durations = [
        4_000, 10_000, 25_000, 59_000, 90_000, 299_000, 420_000, 1_000_000, 3_000_000, 5_000_000,
        20_000_000, 40_000_000, 90_000_000,
    ];
    (0..160)
        .map(|i| {
            let status = match r.next(10) {
                0..=6 => "completed",
                7 | 8 => "failed",
                _ => "cancelled",
            };
            let created = START + r.next(12 * DAY as u64) as i64;
            // Some cancelled tasks never started.
            let started = (status != "cancelled" || r.next(2) == 0).then(|| created + 1_000);
            let finished =
                started.unwrap_or(created) + durations[r.next(durations.len() as u64) as usize];
            GenTask {
                id: format!("task-{i:04}"),
                workflow: ["feature_implementation", "bug_fix"][r.next(2) as usize],
                complexity: ["simple", "medium", "complex"][r.next(3) as usize],
                analyst: r.next(2) == 0,
                status,
                cost: r.next(50_000) as i64,
                unpriced: i64::from(r.next(15) == 0),
                created,
                started,
                finished,
            }
        })
        .collect()
}

async fn store_tasks(store: &engine::Store, ws: &str, tasks: &[GenTask]) {
    let db = store.writer();
    for t in tasks {
        sqlx::query(
            "INSERT INTO tasks (id, workspace_id, description, workflow, complexity, status, \
             cost_micros, unpriced_calls, created_at, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $9)",
        )
        .bind(&t.id)
        .bind(ws)
        .bind(format!("generated {}", t.id))
        .bind(t.workflow)
        .bind(t.complexity)
        .bind(t.cost)
        .bind(t.unpriced)
        .bind(t.created)
        .bind(t.started)
        .execute(db)
        .await
        .unwrap();
        let roles: &[&str] = if t.analyst {
            &["ANALYST", "BUILDER"]
        } else {
            &["BUILDER"]
        };
        for (i, role) in roles.iter().enumerate() {
            sqlx::query(
                "INSERT INTO agent_runs (id, workspace_id, task_id, step_index, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(format!("{}-{i}", t.id))
            .bind(ws)
            .bind(&t.id)
            .bind(i as i64)
            .bind(*role)
            .bind(t.created)
            .execute(db)
            .await
            .unwrap();
        }
        sqlx::query("UPDATE tasks SET status = $2, finished_at = $3 WHERE id = $1")
            .bind(&t.id)
            .bind(t.status)
            .bind(t.finished)
            .execute(db)
            .await
            .unwrap();
    }
}

fn bucket(ms: i64) -> usize {
    BOUNDS.iter().position(|b| ms <= *b).unwrap_or(BOUNDS.len())
}

/// How many tasks the list shows with `filter`, page after page.
async fn listed(store: &engine::Store, ws: &str, filter: TaskFilter) -> i64 {
    let mut filter = TaskFilter {
        limit: Some(200),
        ..filter
    };
    let mut n = 0;
    loop {
        let page = tasks::list(store, ws, &filter).await.unwrap();
        n += page.items.len() as i64;
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => return n,
        }
    }
}

store_test!(trends_and_roi_match_the_raw_rows, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let generated = generate();
    store_tasks(&store, &ws, &generated).await;

    // Agents created in the range: three of the seeded ones, moved back in time.
    let registry = agents::list(store.pool(), &ws).await.unwrap();
    let created_at = [START + DAY + 5, START + DAY + 7, START + 4 * DAY];
    for (agent, at) in registry.iter().zip(created_at) {
        sqlx::query("UPDATE agents SET created_at = $2 WHERE id = $1")
            .bind(&agent.id)
            .bind(at)
            .execute(store.writer())
            .await
            .unwrap();
    }

    // Calls at known times, by agents, for the heatmap and the top agents.
    let mut r = Lcg(5);
    let calls: Vec<NewLlmCall> = (0..300)
        .map(|_| {
            let success = r.next(10) < 8;
            NewLlmCall {
                workspace_id: ws.clone(),
                agent_id: registry
                    .get(r.next(registry.len() as u64 + 2) as usize)
                    .map(|a| a.id.clone()),
                provider_kind: "openai".into(),
                model: "gpt-4o".into(),
                cost_micros: r.next(9_000) as i64,
                price_known: r.next(20) != 0,
                latency_ms: r.next(20_000) as i64,
                success,
                error_class: (!success).then(|| "server_error".to_owned()),
                attempt: 1,
                created_at: START + r.next(12 * DAY as u64) as i64,
                ..NewLlmCall::default()
            }
        })
        .collect();
    for call in &calls {
        llm_calls::record(&store, call).await.unwrap();
    }

    let (from, to) = (START + DAY, START + 10 * DAY);
    let in_range: Vec<&GenTask> = generated
        .iter()
        .filter(|t| t.finished - t.finished % 3_600_000 >= from && t.finished < to)
        .collect();
    let tz_name = "America/New_York";
    let report = trends(
        &store,
        &ws,
        from,
        to,
        Granularity::Day,
        &time_zone(tz_name).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(report.time_zone, tz_name);

    // Workflows and task types.
    let mut workflows: BTreeMap<String, TaskStats> = BTreeMap::new();
    let mut kinds: BTreeMap<(String, String), TaskStats> = BTreeMap::new();
    for t in &in_range {
        workflows
            .entry(t.workflow.into())
            .or_default()
            .add(&t.stats());
        kinds
            .entry((t.workflow.into(), t.complexity.into()))
            .or_default()
            .add(&t.stats());
    }
    let got: BTreeMap<String, TaskStats> = report
        .workflows
        .iter()
        .map(|w| (w.workflow.clone(), w.stats.clone()))
        .collect();
    assert_eq!(got, workflows);
    let got: BTreeMap<(String, String), TaskStats> = report
        .task_types
        .iter()
        .map(|w| ((w.workflow.clone(), w.complexity.clone()), w.stats.clone()))
        .collect();
    assert_eq!(got, kinds);
    assert!(
        report
            .workflows
            .windows(2)
            .all(|w| w[0].stats.tasks >= w[1].stats.tasks)
    );

    // Completion times of completed tasks.
    let mut histogram = [0_i64; 12];
    for t in in_range.iter().filter(|t| t.status == "completed") {
        histogram[bucket(t.duration())] += 1;
    }
    let got: Vec<i64> = report.completion_times.iter().map(|b| b.tasks).collect();
    assert_eq!(got, histogram.to_vec());
    assert_eq!(report.completion_times[11].up_to_ms, None);
    assert_eq!(report.completion_times[1].above_ms, 10_000);

    // Drill-downs: the tasks list with the filters a chart links lists exactly its tasks.
    let finished = TaskFilter {
        finished_from: Some(report.from_ms),
        finished_to: Some(report.to_ms),
        ..TaskFilter::default()
    };
    for (k, b) in report.completion_times.iter().enumerate() {
        let filter = TaskFilter {
            status: Some("completed".into()),
            min_duration_ms: (k > 0).then_some(b.above_ms),
            max_duration_ms: b.up_to_ms,
            ..finished.clone()
        };
        assert_eq!(listed(&store, &ws, filter).await, b.tasks, "bucket {k}");
    }
    for kind in &report.task_types {
        let filter = TaskFilter {
            workflow: Some(kind.workflow.clone()),
            complexity: Some(kind.complexity.clone()),
            ..finished.clone()
        };
        assert_eq!(listed(&store, &ws, filter).await, kind.stats.tasks);
    }
    for point in &report.tasks {
        let end = (point.start_ms + DAY).min(report.to_ms);
        for (status, n) in [("completed", point.completed), ("failed", point.failed)] {
            let filter = TaskFilter {
                status: Some(status.into()),
                finished_from: Some(point.start_ms.max(report.from_ms)),
                finished_to: Some(end),
                ..TaskFilter::default()
            };
            assert_eq!(listed(&store, &ws, filter).await, n);
        }
    }
    let bad = TaskFilter {
        complexity: Some("huge".into()),
        ..TaskFilter::default()
    };
    assert!(tasks::list(&store, &ws, &bad).await.is_err());

    // Tasks per day by outcome.
    let mut per_day: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for t in &in_range {
        let day = per_day.entry(t.finished - t.finished % DAY).or_default();
        match t.status {
            "completed" => day.0 += 1,
            "failed" => day.1 += 1,
            _ => day.2 += 1,
        }
    }
    let got: BTreeMap<i64, (i64, i64, i64)> = report
        .tasks
        .iter()
        .map(|p| (p.start_ms, (p.completed, p.failed, p.cancelled)))
        .collect();
    assert_eq!(got, per_day);

    // The ten most expensive tasks.
    let mut by_cost: Vec<&&GenTask> = in_range.iter().collect();
    by_cost.sort_by(|a, b| b.cost.cmp(&a.cost).then(a.id.cmp(&b.id)));
    let expected: Vec<String> = by_cost.iter().take(10).map(|t| t.id.clone()).collect();
    let got: Vec<String> = report.top_tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(got, expected);
    assert_eq!(
        report.top_tasks[0].price_known,
        by_cost[0].unpriced == 0,
        "an unpriced task's cost is a lower bound"
    );

    // Agents created per day.
    let got: Vec<(i64, i64)> = report
        .agents_created
        .iter()
        .map(|p| (p.start_ms, p.count))
        .collect();
    assert_eq!(got, vec![(START + DAY, 2), (START + 4 * DAY, 1)]);

    // The heatmap: every call in the range, in New York's local hour of the week.
    let tz = jiff::tz::TimeZone::get(tz_name).unwrap();
    let mut cells = vec![(0_i64, 0_i64); 168];
    for c in calls
        .iter()
        .filter(|c| c.created_at >= from && c.created_at < to)
    {
        let local = jiff::Timestamp::from_millisecond(c.created_at)
            .unwrap()
            .to_zoned(tz.clone());
        let i = local.weekday().to_monday_zero_offset() as usize * 24 + local.hour() as usize;
        cells[i].0 += 1;
        cells[i].1 += c.cost_micros;
    }
    assert_eq!(report.heatmap.len(), 168);
    let got: Vec<(i64, i64)> = report
        .heatmap
        .iter()
        .map(|c| (c.calls, c.cost_micros))
        .collect();
    assert_eq!(got, cells);
    // Each busy cell drills down to exactly its calls.
    for cell in report.heatmap.iter().filter(|c| c.calls > 0) {
        let filter = llm_calls::CallFilter {
            from: Some(report.from_ms),
            to: Some(report.to_ms),
            hour_of_week: Some((cell.weekday, cell.hour, tz_name.to_owned())),
            ..llm_calls::CallFilter::default()
        };
        let mut request = engine::store::page::PageRequest::parse(Some("200"), None).unwrap();
        let mut n = 0;
        loop {
            let page = llm_calls::page(&store, &ws, &filter, &request)
                .await
                .unwrap();
            n += page.items.len() as i64;
            match page.next_cursor {
                Some(cursor) => {
                    request =
                        engine::store::page::PageRequest::parse(Some("200"), Some(&cursor)).unwrap()
                }
                None => break,
            }
        }
        assert_eq!(n, cell.calls, "{} {}:00", cell.weekday, cell.hour);
    }

    // Top agents: success rate over at least five calls, then most calls.
    let mut agents: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for c in calls
        .iter()
        .filter(|c| c.created_at - c.created_at % 3_600_000 >= from && c.created_at < to)
    {
        if let Some(agent) = &c.agent_id {
            let a = agents.entry(agent.clone()).or_default();
            a.0 += 1;
            a.1 += i64::from(c.success);
            a.2 += c.cost_micros;
        }
    }
    let mut expected: Vec<(String, i64, i64)> = agents
        .into_iter()
        .filter(|(_, a)| a.0 >= 5)
        .map(|(id, a)| (id, a.0, a.2))
        .collect();
    expected.sort_by(|a, b| {
        let rate = |x: &(String, i64, i64)| {
            calls
                .iter()
                .filter(|c| {
                    c.agent_id.as_deref() == Some(&x.0) && c.created_at >= from && c.created_at < to
                })
                .filter(|c| c.success)
                .count() as f64
                / x.1 as f64
        };
        rate(b)
            .total_cmp(&rate(a))
            .then(b.1.cmp(&a.1))
            .then(a.0.cmp(&b.0))
    });
    expected.truncate(10);
    let got: Vec<(String, i64, i64)> = report
        .top_agents
        .iter()
        .map(|a| (a.agent_id.clone(), a.calls, a.cost_micros))
        .collect();
    assert_eq!(got, expected);
    assert!(!got.is_empty());

    // ANALYST ROI over the same range.
    let roi = analyst_roi(&store, &ws, from, to).await.unwrap();
    let mut sides: BTreeMap<(String, String), (TaskStats, TaskStats)> = BTreeMap::new();
    for t in &in_range {
        let s = sides
            .entry((t.workflow.into(), t.complexity.into()))
            .or_default();
        if t.analyst {
            s.0.add(&t.stats());
        } else {
            s.1.add(&t.stats());
        }
    }
    let got: BTreeMap<(String, String), (TaskStats, TaskStats)> = roi
        .rows
        .iter()
        .map(|r| {
            (
                (r.workflow.clone(), r.complexity.clone()),
                (r.with_analyst.clone(), r.without_analyst.clone()),
            )
        })
        .collect();
    assert_eq!(got, sides);
    let (mut with, mut without, mut comparable) = (TaskStats::default(), TaskStats::default(), 0);
    for (w, o) in sides.values() {
        if w.tasks > 0 && o.tasks > 0 {
            with.add(w);
            without.add(o);
            comparable += 1;
        }
    }
    assert_eq!(
        (roi.with_analyst, roi.without_analyst, roi.comparable_kinds),
        (with, without, comparable)
    );
    assert!(comparable > 0);

    // Ranges with partial days at both ends: short edges (at most 12 hours) are read from the
    // hourly task rollup, long ones as their whole day from the daily rollup (migration 0009)
    // minus the hours outside the range; the same answers as the raw rows, by hour and day.
    for (lead, trail) in [(5, 7), (15, 20)] {
        let (from, to) = (from + lead * HOUR, to - trail * HOUR);
        let inside: Vec<&GenTask> = generated
            .iter()
            .filter(|t| t.finished - t.finished % HOUR >= from && t.finished < to)
            .collect();
        let mut workflows: BTreeMap<String, TaskStats> = BTreeMap::new();
        let mut sides: BTreeMap<(String, String), (TaskStats, TaskStats)> = BTreeMap::new();
        for t in &inside {
            workflows
                .entry(t.workflow.into())
                .or_default()
                .add(&t.stats());
            let s = sides
                .entry((t.workflow.into(), t.complexity.into()))
                .or_default();
            if t.analyst { &mut s.0 } else { &mut s.1 }.add(&t.stats());
        }
        for (granularity, period) in [(Granularity::Hour, HOUR), (Granularity::Day, DAY)] {
            let report = trends(&store, &ws, from, to, granularity, &jiff::tz::TimeZone::UTC)
                .await
                .unwrap();
            let got: BTreeMap<String, TaskStats> = report
                .workflows
                .iter()
                .map(|w| (w.workflow.clone(), w.stats.clone()))
                .collect();
            assert_eq!(got, workflows, "{granularity:?}");
            let mut per: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
            for t in &inside {
                let p = per.entry(t.finished - t.finished % period).or_default();
                match t.status {
                    "completed" => p.0 += 1,
                    "failed" => p.1 += 1,
                    _ => p.2 += 1,
                }
            }
            let got: BTreeMap<i64, (i64, i64, i64)> = report
                .tasks
                .iter()
                .map(|p| (p.start_ms, (p.completed, p.failed, p.cancelled)))
                .collect();
            assert_eq!(got, per, "{granularity:?}");
        }
        let roi = analyst_roi(&store, &ws, from, to).await.unwrap();
        let got: BTreeMap<(String, String), (TaskStats, TaskStats)> = roi
            .rows
            .iter()
            .map(|r| {
                (
                    (r.workflow.clone(), r.complexity.clone()),
                    (r.with_analyst.clone(), r.without_analyst.clone()),
                )
            })
            .collect();
        assert_eq!(got, sides);
    }

    // Bad input changes nothing and says what is wrong.
    assert!(
        trends(
            &store,
            &ws,
            to,
            from,
            Granularity::Day,
            &jiff::tz::TimeZone::UTC
        )
        .await
        .is_err()
    );
    assert!(time_zone("Not/AZone").is_err());
});
