use engine::Backend;
use engine::store_test;

store_test!(migrations_are_idempotent_and_current, |store| {
    let status = store.migration_status().await.unwrap();
    assert!(status.is_current(), "{status:?}");
    assert!(status.expected >= 1);
    // Applying again changes nothing and fails on nothing.
    store.migrate().await.unwrap();
    assert_eq!(store.migration_status().await.unwrap(), status);
    store.ping().await.unwrap();
});

store_test!(sqlite_runs_in_wal_mode, |store| {
    if store.backend() == Backend::Sqlite {
        let mode = engine::store::backend::sqlite_journal_mode(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
});

#[tokio::test]
async fn an_empty_database_is_not_current() {
    let path = std::env::temp_dir().join(format!("fleetdeck-empty-{}.db", uuid_like()));
    let store = engine::Store::open_sqlite_file(&path).await.unwrap();
    let status = store.migration_status().await.unwrap();
    assert!(!status.is_current());
    assert_eq!(status.applied, 0);
    store.migrate().await.unwrap();
    assert!(store.migration_status().await.unwrap().is_current());
    store.close().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn unsupported_urls_are_refused_clearly() {
    let err = engine::Store::connect("mysql://localhost/x")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("DATABASE_URL"), "{err}");
}

fn uuid_like() -> String {
    engine::new_id()
}
