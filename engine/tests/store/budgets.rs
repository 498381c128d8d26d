//! Budgets on both databases: made, changed and deleted by admins only, validated; reservations
//! exact under concurrency (never more held and spent than a hard budget allows, nothing held
//! once every call is settled or released); expired holds swept once; work refused up front
//! when a hard budget is spent.

use std::time::Duration;

use engine::Error;
use engine::actions::Caller;
use engine::auth::Principal;
use engine::budgets::enforce::{self, Reservation, Spender};
use engine::budgets::{self};
use engine::domain::MemberRole;
use engine::store::sessions::ClientInfo;
use engine::store_test;
use wire::budgets::BudgetInput;

fn input(name: &str, scope: &str, subject: &str, amount_usd: f64, hard: bool) -> BudgetInput {
    BudgetInput {
        name: name.into(),
        scope: scope.into(),
        subject_id: subject.into(),
        period: "month".into(),
        amount_usd,
        hard,
        thresholds: vec![80, 50, 100],
    }
}

/// The period row of a budget's current period: (spent, reserved, calls).
async fn usage(store: &engine::Store, budget_id: &str) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT spent_micros, reserved_micros, calls FROM budget_periods WHERE budget_id = $1",
    )
    .bind(budget_id)
    .fetch_optional(store.pool())
    .await
    .unwrap()
    .unwrap_or((0, 0, 0))
}

async fn holds(store: &engine::Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM budget_reservations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

store_test!(budgets_are_made_by_admins_and_validated, |store| {
    let admin: Principal = crate::runner::setup(&store, "").await;
    let client = ClientInfo::default();
    let caller = Caller::new(&admin, &client);
    let agent = engine::store::agents::list(store.pool(), &admin.workspace_id)
        .await
        .unwrap()
        .remove(0);

    let made = budgets::create(&store, caller, &input("Fleet", "workspace", "", 25.5, true))
        .await
        .unwrap();
    assert_eq!(made.amount_micros, 25_500_000);
    assert_eq!(made.thresholds, vec![50, 80, 100]);
    assert_eq!(made.subject_label, "Whole workspace");
    assert_eq!(made.current.spent_micros, 0);
    assert!(made.current.start_ms <= engine::now_ms() && engine::now_ms() < made.current.end_ms);
    let per_agent = budgets::create(
        &store,
        caller,
        &input("Builder", "agent", &agent.id, 3.0, false),
    )
    .await
    .unwrap();
    assert_eq!(per_agent.subject_label, agent.name);
    assert!(!per_agent.hard);

    // Bad input names its field and changes nothing.
    for (bad, field) in [
        (input("", "workspace", "", 1.0, true), "name"),
        (input("X", "team", "", 1.0, true), "scope"),
        (input("X", "workspace", "", -1.0, true), "amount_usd"),
        (input("X", "workspace", "", f64::NAN, true), "amount_usd"),
        (
            input("X", "agent", "no-such-agent", 1.0, true),
            "subject_id",
        ),
        (input("X", "agent", "", 1.0, true), "subject_id"),
        (input("X", "workspace", &agent.id, 1.0, true), "subject_id"),
        (
            BudgetInput {
                period: "year".into(),
                ..input("X", "workspace", "", 1.0, true)
            },
            "period",
        ),
        (
            BudgetInput {
                thresholds: vec![0],
                ..input("X", "workspace", "", 1.0, true)
            },
            "thresholds",
        ),
    ] {
        match budgets::create(&store, caller, &bad).await {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        budgets::create(&store, caller, &input("Fleet", "workspace", "", 1.0, true)).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(budgets::list(&store, &admin).await.unwrap().len(), 2);

    // Members read, only admins write.
    let viewer = Principal {
        role: MemberRole::Viewer,
        ..admin.clone()
    };
    assert_eq!(budgets::list(&store, &viewer).await.unwrap().len(), 2);
    let as_viewer = Caller::new(&viewer, &client);
    assert!(matches!(
        budgets::create(
            &store,
            as_viewer,
            &input("Mine", "workspace", "", 1.0, true)
        )
        .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        budgets::delete(&store, as_viewer, &made.id).await,
        Err(Error::Forbidden(_))
    ));

    let changed = budgets::update(
        &store,
        caller,
        &made.id,
        &input("Fleet", "workspace", "", 40.0, false),
    )
    .await
    .unwrap();
    assert_eq!((changed.amount_micros, changed.hard), (40_000_000, false));
    budgets::delete(&store, caller, &per_agent.id)
        .await
        .unwrap();
    assert!(matches!(
        budgets::history(&store, &admin, &per_agent.id).await,
        Err(Error::NotFound { .. })
    ));
    let history = budgets::history(&store, &admin, &made.id).await.unwrap();
    assert_eq!(history.periods.len(), 1);
    let (audited,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'budget.%'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 4);
});

store_test!(reservations_never_overspend_under_concurrency, |store| {
    let admin: Principal = crate::runner::setup(&store, "").await;
    let client = ClientInfo::default();
    let caller = Caller::new(&admin, &client);
    let ws = admin.workspace_id.clone();
    let agents = engine::store::agents::list(store.pool(), &ws)
        .await
        .unwrap();
    // $1.00 a month for the workspace, hard; a soft one on an agent.
    let hard = budgets::create(&store, caller, &input("Fleet", "workspace", "", 1.0, true))
        .await
        .unwrap();
    let soft = budgets::create(
        &store,
        caller,
        &input("Planner", "agent", &agents[0].id, 0.5, false),
    )
    .await
    .unwrap();
    let spender = Spender {
        agent_id: Some(agents[0].id.clone()),
        user_id: Some(admin.user_id.clone()),
        api_key_id: None,
        task_id: None,
    };

    // 40 calls at once, each up to $0.10: exactly ten fit.
    let reserved = futures_util::future::join_all(
        (0..40).map(|_| enforce::reserve(&store, &ws, &spender, 100_000, Duration::ZERO)),
    )
    .await;
    let granted: Vec<Reservation> = reserved
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    assert_eq!(granted.len(), 10);
    for refused in reserved.iter().filter_map(|r| r.as_ref().err()) {
        match refused {
            Error::BudgetExceeded(message) => assert!(message.contains("\"Fleet\""), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(refused.code(), "BUDGET_EXCEEDED");
    }
    assert_eq!(usage(&store, &hard.id).await, (0, 1_000_000, 0));
    // The soft budget held as much and refused nothing, though passed.
    assert_eq!(usage(&store, &soft.id).await, (0, 1_000_000, 0));

    // Six settle for less than they held, two are released, two are left to expire.
    for r in &granted[..6] {
        let mut tx = store.begin().await.unwrap();
        enforce::settle(&mut tx, r, 60_000).await.unwrap();
        tx.commit().await.unwrap();
    }
    for r in &granted[6..8] {
        enforce::release(&store, r).await.unwrap();
    }
    assert_eq!(usage(&store, &hard.id).await, (360_000, 200_000, 6));
    // What was given back can be held again, exactly: $0.44 left, four calls of $0.11 fit.
    let again = futures_util::future::join_all(
        (0..8).map(|_| enforce::reserve(&store, &ws, &spender, 110_000, Duration::ZERO)),
    )
    .await;
    let granted_again: Vec<&Reservation> = again.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(granted_again.len(), 4);
    for r in granted_again {
        enforce::release(&store, r).await.unwrap();
    }
    // A task's holds (its worker died) are given back when the task is claimed again.
    let for_task = Spender {
        task_id: Some("task-1".into()),
        ..spender.clone()
    };
    enforce::reserve(&store, &ws, &for_task, 110_000, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(usage(&store, &hard.id).await, (360_000, 310_000, 6));
    assert_eq!(enforce::release_task(&store, "task-1").await.unwrap(), 2);
    assert_eq!(enforce::release_task(&store, "task-1").await.unwrap(), 0);
    assert_eq!(usage(&store, &hard.id).await, (360_000, 200_000, 6));

    // A crash left the last two: once expired, a sweep gives them back, and only once.
    sqlx::query("UPDATE budget_reservations SET expires_at = 0")
        .execute(store.pool())
        .await
        .unwrap();
    let swept = futures_util::future::join_all((0..3).map(|_| enforce::sweep(&store))).await;
    assert!(swept.iter().all(Result::is_ok));
    assert_eq!(usage(&store, &hard.id).await, (360_000, 0, 6));
    assert_eq!(holds(&store).await, 0);
    // A late record of a swept call still counts its cost, and gives back nothing twice.
    let mut tx = store.begin().await.unwrap();
    enforce::settle(&mut tx, &granted[8], 50_000).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(usage(&store, &hard.id).await, (410_000, 0, 7));

    // Work is refused up front once a hard budget is spent, and not before.
    enforce::ensure_open(&store, &ws, &spender).await.unwrap();
    sqlx::query("UPDATE budget_periods SET spent_micros = 1000000 WHERE budget_id = $1")
        .bind(&hard.id)
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        enforce::ensure_open(&store, &ws, &spender).await,
        Err(Error::BudgetExceeded(_))
    ));
    // Another workspace's calls are not limited by it.
    let other = engine::store::workspaces::create(store.pool(), "Other", "other")
        .await
        .unwrap();
    let free = enforce::reserve(
        &store,
        &other.id,
        &Spender::default(),
        5_000_000,
        Duration::ZERO,
    )
    .await
    .unwrap();
    assert!(free.holds.is_empty());
});
