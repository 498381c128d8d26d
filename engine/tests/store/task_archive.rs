//! Task-centric views on both databases: archiving (one, many, all or nothing, by search, and
//! automatically after a workspace's days) and restoring; a task's chosen working directory
//! (checked under the allowed root, used by its tools, offered again).

use std::time::Duration;

use engine::actions::Caller;
use engine::auth::Principal;
use engine::domain::MemberRole;
use engine::store::retention::{Policy, run};
use engine::store::sessions::ClientInfo;
use engine::store::settings;
use engine::store::task_archive;
use engine::store::tasks::{self, TaskFilter};
use engine::{Error, Store, store_test};
use serde_json::json;

use super::runner::{custom, runner, setup};

const DAY: i64 = 86_400_000;

/// Inserts a task straight into the table: `status`, finished `age_days` ago.
async fn task(store: &Store, ws: &str, description: &str, status: &str, finished: i64) -> String {
    let id = engine::new_id();
    sqlx::query(
        "INSERT INTO tasks (id, workspace_id, description, workflow, complexity, status, created_at, finished_at) \
         VALUES ($1, $2, $3, 'feature_implementation', 'simple', $4, $5, $6)",
    )
    .bind(&id)
    .bind(ws)
    .bind(description)
    .bind(status)
    .bind(finished - 1_000)
    .bind((status != "running").then_some(finished))
    .execute(store.pool())
    .await
    .unwrap();
    id
}

async fn listed(store: &Store, ws: &str, archived: bool, search: Option<&str>) -> Vec<String> {
    let filter = TaskFilter {
        archived: Some(archived),
        search: search.map(str::to_owned),
        limit: Some(50),
        ..TaskFilter::default()
    };
    let page = tasks::list(store, ws, &filter).await.unwrap();
    page.items.into_iter().map(|t| t.description).collect()
}

async fn audit_count(store: &Store, ws: &str, action: &str) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE workspace_id = $1 AND action = $2")
            .bind(ws)
            .bind(action)
            .fetch_one(store.pool())
            .await
            .unwrap();
    n
}

fn as_role(who: &Principal, role: MemberRole) -> Principal {
    Principal {
        role,
        ..who.clone()
    }
}

store_test!(
    archiving_moves_finished_tasks_out_of_the_list_and_back,
    |store| {
        let who = setup(&store, "").await;
        let ws = who.workspace_id.clone();
        let client = ClientInfo::default();
        let caller = Caller::new(&who, &client);
        let now = engine::now_ms();
        let a = task(&store, &ws, "Fix the login bug", "completed", now - 3 * DAY).await;
        let b = task(
            &store,
            &ws,
            "Raise quota to 100% for team_x",
            "failed",
            now - 2 * DAY,
        )
        .await;
        let c = task(&store, &ws, "Write the LOGIN docs", "cancelled", now - DAY).await;
        let running = task(&store, &ws, "Still working on login", "running", now).await;

        // Bulk, with a task still running: refused as a whole, nothing changes.
        let err = engine::actions::tasks::archive(&store, caller, &[a.clone(), running.clone()])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
        assert_eq!(listed(&store, &ws, true, None).await, Vec::<String>::new());
        // An unknown id: not found, nothing changes.
        let err = engine::actions::tasks::archive(&store, caller, &[a.clone(), "nope".into()])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
        // A viewer may not; an empty list is bad input.
        let viewer = as_role(&who, MemberRole::Viewer);
        let err = engine::actions::tasks::archive(
            &store,
            Caller::new(&viewer, &client),
            std::slice::from_ref(&a),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        let err = engine::actions::tasks::archive(&store, caller, &[])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
        assert_eq!(audit_count(&store, &ws, "task.archive").await, 0);

        // Two archived together (one named twice): out of the list, in the archive.
        let out =
            engine::actions::tasks::archive(&store, caller, &[a.clone(), b.clone(), a.clone()])
                .await
                .unwrap();
        assert_eq!((out.changed, out.unchanged), (2, 0));
        assert_eq!(
            listed(&store, &ws, false, None).await,
            ["Still working on login", "Write the LOGIN docs"]
        );
        assert_eq!(
            listed(&store, &ws, true, None).await,
            ["Raise quota to 100% for team_x", "Fix the login bug"]
        );
        let row = tasks::get(store.pool(), &ws, &a).await.unwrap();
        assert!(row.archived_at.is_some_and(|at| at >= now));
        assert_eq!(audit_count(&store, &ws, "task.archive").await, 1);
        // Again: nothing changes, no entry.
        let out = engine::actions::tasks::archive(&store, caller, std::slice::from_ref(&a))
            .await
            .unwrap();
        assert_eq!((out.changed, out.unchanged), (0, 1));
        assert_eq!(audit_count(&store, &ws, "task.archive").await, 1);

        // Search, in either view, any case; LIKE's own characters are literal.
        assert_eq!(
            listed(&store, &ws, true, Some("LOGIN")).await,
            ["Fix the login bug"]
        );
        assert_eq!(
            listed(&store, &ws, false, Some("login")).await,
            ["Still working on login", "Write the LOGIN docs"]
        );
        assert_eq!(
            listed(&store, &ws, true, Some("100%")).await,
            ["Raise quota to 100% for team_x"]
        );
        assert_eq!(
            listed(&store, &ws, true, Some("10_%")).await,
            Vec::<String>::new()
        );
        assert_eq!(listed(&store, &ws, true, Some("team_x")).await.len(), 1);
        assert_eq!(listed(&store, &ws, true, Some("teamax")).await.len(), 0);

        // Restored: back in the list, newest first as before.
        let out = engine::actions::tasks::restore(&store, caller, std::slice::from_ref(&b))
            .await
            .unwrap();
        assert_eq!(out.changed, 1);
        assert_eq!(
            listed(&store, &ws, false, None).await,
            [
                "Still working on login",
                "Write the LOGIN docs",
                "Raise quota to 100% for team_x"
            ]
        );
        assert!(
            tasks::get(store.pool(), &ws, &b)
                .await
                .unwrap()
                .archived_at
                .is_none()
        );
        assert_eq!(audit_count(&store, &ws, "task.restore").await, 1);
        let _ = c;
    }
);

store_test!(
    finished_tasks_are_archived_after_the_workspace_days,
    |store| {
        let who = setup(&store, "").await;
        let ws = who.workspace_id.clone();
        let client = ClientInfo::default();
        let caller = Caller::new(&who, &client);
        let now = engine::now_ms();
        task(&store, &ws, "old completed", "completed", now - 10 * DAY).await;
        task(&store, &ws, "old failed", "failed", now - 8 * DAY).await;
        task(&store, &ws, "recent", "completed", now - 2 * DAY).await;
        task(&store, &ws, "running for long", "running", now - 30 * DAY).await;
        let policy = Policy {
            hot_days: 0,
            archive_days: 0,
            dir: std::env::temp_dir(),
        };
        // Not set: nothing is archived.
        assert_eq!(run(&store, &policy, now).await.unwrap().archived_tasks, 0);
        // Out of range: refused.
        let err = engine::actions::settings::set(
            &store,
            caller,
            settings::TASK_ARCHIVE_AFTER_DAYS,
            &json!(5000),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
        engine::actions::settings::set(
            &store,
            caller,
            settings::TASK_ARCHIVE_AFTER_DAYS,
            &json!(7),
        )
        .await
        .unwrap();
        let report = run(&store, &policy, now).await.unwrap();
        assert_eq!(report.archived_tasks, 2);
        assert_eq!(
            listed(&store, &ws, true, None).await,
            ["old failed", "old completed"]
        );
        assert_eq!(
            listed(&store, &ws, false, None).await,
            ["recent", "running for long"]
        );
        assert_eq!(audit_count(&store, &ws, "task.auto_archive").await, 1);
        // Run again: nothing more.
        assert_eq!(run(&store, &policy, now).await.unwrap().archived_tasks, 0);
    }
);

store_test!(
    a_task_works_in_the_directory_chosen_under_the_root,
    |store| {
        let who = setup(&store, "").await;
        let ws = who.workspace_id.clone();
        let client = ClientInfo::default();
        let caller = Caller::new(&who, &client);
        let base = std::env::temp_dir().join(format!("fleetdeck-workdirs-{}", engine::new_id()));
        let root = base.join("projects");
        std::fs::create_dir_all(root.join("shop/api")).unwrap();
        std::fs::create_dir_all(base.join("secret")).unwrap();
        std::fs::write(root.join("notes.txt"), "a file").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(base.join("secret"), root.join("escape")).unwrap();
        let resolve = |raw: &'static str| {
            let store = store.clone();
            let ws = ws.clone();
            async move { task_archive::resolve_workdir(&store, &ws, Some(raw)).await }
        };

        // No root yet: choosing one is refused, not choosing is fine.
        assert!(matches!(resolve("shop").await, Err(Error::Invalid { .. })));
        assert_eq!(
            task_archive::resolve_workdir(&store, &ws, None)
                .await
                .unwrap(),
            None
        );
        // A root that does not exist, or a relative one, is refused; a viewer may not set it.
        for bad in [
            json!("/no/such/dir/anywhere"),
            json!("relative/dir"),
            json!(12),
        ] {
            let err = engine::actions::settings::set(&store, caller, settings::WORKDIR_ROOT, &bad)
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }), "{bad}: {err:?}");
        }
        let dev = as_role(&who, MemberRole::Developer);
        let err = engine::actions::settings::set(
            &store,
            Caller::new(&dev, &client),
            settings::WORKDIR_ROOT,
            &json!(root.to_str().unwrap()),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        // Set with a trailing "/." it is stored canonical.
        let stored = engine::actions::settings::set(
            &store,
            caller,
            settings::WORKDIR_ROOT,
            &json!(format!("{}/.", root.display())),
        )
        .await
        .unwrap();
        let canonical_root = std::fs::canonicalize(&root).unwrap();
        assert_eq!(stored, json!(canonical_root.to_str().unwrap()));

        let shop_api = canonical_root.join("shop/api").to_str().unwrap().to_owned();
        assert_eq!(
            resolve("shop/api").await.unwrap().as_deref(),
            Some(shop_api.as_str())
        );
        assert_eq!(
            resolve("./shop/../shop/api/").await.unwrap().as_deref(),
            Some(shop_api.as_str())
        );
        for bad in [
            "../secret",
            "/etc",
            "shop/missing",
            "notes.txt",
            "shop/../../secret",
        ] {
            let err = resolve(bad).await.unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }), "{bad}: {err:?}");
        }
        #[cfg(unix)]
        assert!(matches!(
            resolve("escape").await,
            Err(Error::Invalid { .. })
        ));

        // Submitted in `shop/api`: the BUILDER's files land there, the task names it, the form
        // offers it again. A bad choice takes no credit and queues nothing.
        let mut work_root = std::path::PathBuf::new();
        let r = runner(&store, |c| work_root = c.work_root.clone());
        let before = tasks::list(&store, &ws, &TaskFilter::default())
            .await
            .unwrap()
            .items
            .len();
        let mut bad = custom(&["BUILDER"]);
        bad.workdir = Some("../secret".into());
        assert!(matches!(
            r.submit(caller, &bad).await,
            Err(Error::Invalid { .. })
        ));
        assert_eq!(
            tasks::list(&store, &ws, &TaskFilter::default())
                .await
                .unwrap()
                .items
                .len(),
            before
        );
        let mut req = custom(&["BUILDER"]);
        req.workdir = Some("shop/api".into());
        let submitted = r.submit(caller, &req).await.unwrap();
        assert_eq!(submitted.workdir.as_deref(), Some(shop_api.as_str()));
        let workers = r.start();
        let started = std::time::Instant::now();
        let done = loop {
            let t = tasks::get(store.pool(), &ws, &submitted.id).await.unwrap();
            if t.is_finished() {
                break t;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still {}",
                t.status
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        assert_eq!(done.status, "completed", "{:?}", done.error);
        let written: Vec<_> = walk(&canonical_root.join("shop/api"));
        assert!(
            !written.is_empty(),
            "the BUILDER wrote nothing in the chosen directory"
        );
        // Not in a directory of its own under the work root.
        assert!(!work_root.join(&submitted.id).exists());
        let options = task_archive::workdir_options(&store, &ws, &who.user_id)
            .await
            .unwrap();
        assert_eq!(options.root.as_deref(), canonical_root.to_str());
        assert_eq!(options.recent, [shop_api]);
        // Deleting the task leaves the chosen directory alone.
        r.delete(caller, &submitted.id).await.unwrap();
        assert!(canonical_root.join("shop/api").is_dir());
        assert_eq!(walk(&canonical_root.join("shop/api")).len(), written.len());
        for w in workers {
            w.abort();
        }
        let _ = std::fs::remove_dir_all(&base);
    }
);

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
