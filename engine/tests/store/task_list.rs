//! The tasks list answers from a cached page on SQLite while nothing changed; it must never
//! answer a page older than the data, whoever wrote it — this store, or another process on the
//! same database (here a second `Store`, with a cache of its own).

use engine::Store;
use engine::store::tasks::{self, TaskFilter};
use engine::testing::TestDb;

async fn insert(store: &Store, ws: &str, n: i64) -> String {
    let id = engine::new_id();
    sqlx::query(
        "INSERT INTO tasks (id, workspace_id, description, workflow, complexity, status, created_at) \
         VALUES ($1, $2, $3, 'feature_implementation', 'simple', 'completed', $4)",
    )
    .bind(&id)
    .bind(ws)
    .bind(format!("task {n}"))
    .bind(1_700_000_000_000 + n)
    .execute(store.pool())
    .await
    .unwrap();
    id
}

async fn statuses(store: &Store, ws: &str) -> Vec<(String, String)> {
    let filter = TaskFilter {
        limit: Some(10),
        ..TaskFilter::default()
    };
    let page = tasks::list(store, ws, &filter).await.unwrap();
    page.items.into_iter().map(|t| (t.id, t.status)).collect()
}

async fn never_stale(db: TestDb) {
    let reader = db.store.clone();
    let ws = engine::seed::ensure_seeded(&reader)
        .await
        .unwrap()
        .workspace_id;
    // Another process on the same database.
    let writer = Store::connect(&db.url).await.unwrap();
    let a = insert(&writer, &ws, 1).await;
    assert_eq!(
        statuses(&reader, &ws).await,
        [(a.clone(), "completed".into())]
    );
    // Asked again with nothing changed: the same answer (from the cache on SQLite).
    assert_eq!(
        statuses(&reader, &ws).await,
        [(a.clone(), "completed".into())]
    );

    let b = insert(&writer, &ws, 2).await;
    assert_eq!(
        statuses(&reader, &ws).await,
        [
            (b.clone(), "completed".into()),
            (a.clone(), "completed".into())
        ]
    );
    sqlx::query("UPDATE tasks SET status = 'failed' WHERE id = $1")
        .bind(&a)
        .execute(writer.pool())
        .await
        .unwrap();
    assert_eq!(
        statuses(&reader, &ws).await,
        [
            (b.clone(), "completed".into()),
            (a.clone(), "failed".into())
        ]
    );
    sqlx::query("DELETE FROM tasks WHERE id = $1")
        .bind(&b)
        .execute(writer.pool())
        .await
        .unwrap();
    assert_eq!(statuses(&reader, &ws).await, [(a, "failed".into())]);
    // Another workspace's writes do not show (nor stale this one's page).
    let other = engine::store::workspaces::create(reader.pool(), "Other", "other")
        .await
        .unwrap();
    insert(&writer, &other.id, 3).await;
    assert_eq!(statuses(&reader, &other.id).await.len(), 1);
    assert_eq!(statuses(&reader, &ws).await.len(), 1);
}

#[tokio::test]
async fn a_cached_page_is_never_older_than_the_data_sqlite() {
    never_stale(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn a_cached_page_is_never_older_than_the_data_postgres() {
    if let Some(db) = TestDb::postgres().await {
        never_stale(db).await;
    }
}
