//! Retention tiers on both databases: old calls and events move to the archive tables (the
//! rollups, and so analytics, unchanged), then past the archive's days are written to a gzip
//! JSON Lines file and deleted; expired sessions go; a day's run happens once, and running
//! again moves nothing twice.

use std::io::Read;

use engine::seed::ensure_seeded;
use engine::store::llm_calls::{NewLlmCall, record_bulk};
use engine::store::retention::{Policy, run, run_daily};
use engine::store_test;

const DAY: i64 = 86_400_000;

fn call(ws: &str, at: i64) -> NewLlmCall {
    NewLlmCall {
        workspace_id: ws.into(),
        provider_kind: "simulator".into(),
        model: "sim-standard".into(),
        prompt_tokens: 100,
        completion_tokens: 50,
        cost_micros: 1_000,
        price_known: true,
        latency_ms: 200,
        success: true,
        attempt: 1,
        created_at: at,
        ..NewLlmCall::default()
    }
}

async fn count(store: &engine::Store, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

store_test!(
    retention_archives_then_writes_out_and_keeps_the_rollups,
    |store| {
        let ws = ensure_seeded(&store).await.unwrap().workspace_id;
        let now = 1_800_000_000_000_i64;
        // 3 calls from 500 days ago, 2 from 100 days ago, 4 from yesterday.
        let mut calls = Vec::new();
        for (age, n) in [(500, 3), (100, 2), (1, 4)] {
            for i in 0..n {
                calls.push(call(&ws, now - age * DAY + i));
            }
        }
        record_bulk(&store, &calls).await.unwrap();
        for (seq, age) in [(1, 500), (2, 100), (3, 1)] {
            sqlx::query(
                "INSERT INTO events (workspace_id, topic, seq, kind, payload, created_at) \
             VALUES ($1, 'fleet', $2, 'task_created', '{}', $3)",
            )
            .bind(&ws)
            .bind(seq)
            .bind(now - age * DAY)
            .execute(store.pool())
            .await
            .unwrap();
        }
        let (user, _) = engine::testing::member_with_key(
            &store,
            &ws,
            "retention@example.com",
            engine::domain::MemberRole::Viewer,
        )
        .await;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, workspace_id, created_at, expires_at) \
         VALUES ('hash-old', $1, $2, 0, 1)",
        )
        .bind(&user)
        .bind(&ws)
        .execute(store.pool())
        .await
        .unwrap();
        let rollup = "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM call_rollups_hourly";
        let rolled_up = count(&store, rollup).await;
        assert_eq!(rolled_up, 9);

        let dir = std::env::temp_dir().join(format!("fleetdeck-retention-{}", engine::new_id()));
        let policy = Policy {
            hot_days: 90,
            archive_days: 365,
            dir: dir.clone(),
        };
        let before = engine::health::snapshot(&store, &ws, now).await.unwrap();
        assert_eq!(before.retention, None, "Health: not run yet");
        let report = run_daily(&store, &policy, now)
            .await
            .unwrap()
            .expect("today's run");
        // Health shows what the run did.
        let shown = engine::health::snapshot(&store, &ws, now)
            .await
            .unwrap()
            .retention
            .expect("the run, on Health");
        assert!(shown.finished_at.is_some());
        assert_eq!(
            (
                shown.archived_calls,
                shown.archived_events,
                shown.exported_calls,
                shown.exported_events
            ),
            (
                report.archived_calls,
                report.archived_events,
                report.exported_calls,
                report.exported_events
            )
        );
        // The 500-day-old rows went through both tiers at once; the 100-day-old ones are archived.
        assert_eq!((report.archived_calls, report.archived_events), (5, 2));
        assert_eq!((report.exported_calls, report.exported_events), (3, 1));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM llm_calls").await, 4);
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM llm_calls_archive").await,
            2
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM events").await, 1);
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM events_archive").await,
            1
        );
        assert_eq!(
            count(&store, rollup).await,
            rolled_up,
            "analytics keep every call"
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM sessions WHERE token_hash = 'hash-old'"
            )
            .await,
            0
        );
        // The file holds the written-out calls, one JSON object a line.
        let file = report
            .files
            .iter()
            .find(|f| f.to_string_lossy().contains("llm_calls-before-"))
            .expect("a calls file");
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(file).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["created_at"], now - 500 * DAY);
        assert_eq!(first["cost_micros"], 1_000);

        // Once a day; and a second pass moves nothing twice.
        assert!(
            run_daily(&store, &policy, now + 1_000)
                .await
                .unwrap()
                .is_none()
        );
        let again = run(&store, &policy, now).await.unwrap();
        assert_eq!(
            (
                again.archived_calls,
                again.exported_calls,
                again.archived_events
            ),
            (0, 0, 0)
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM llm_calls_archive").await,
            2
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
);
