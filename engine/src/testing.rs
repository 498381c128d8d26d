//! Throw-away databases for tests: a temporary SQLite file, or a uniquely named Postgres
//! database that is created on demand and dropped afterwards.
//!
//! Postgres is found at `FLEETDECK_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached the Postgres half
//! of a test is skipped with a message — except in CI (`CI=true`), where that is a failure.
#![allow(
    clippy::expect_used,
    reason = "a test helper that cannot set up its database must fail the test loudly"
)]

use std::path::PathBuf;

use crate::Store;

/// The admin URL of the test Postgres server.
pub fn postgres_admin_url() -> String {
    std::env::var("FLEETDECK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A database that exists for the lifetime of this value.
pub struct TestDb {
    /// A migrated store connected to the throw-away database.
    pub store: Store,
    /// The connection URL (for starting a server process against the same database).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A migrated SQLite database in a fresh temporary file.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("fleetdeck-test-{}.db", uuid::Uuid::now_v7()));
        let url = crate::store::backend::sqlite_url(&path);
        let store = Store::connect(&url)
            .await
            .expect("open test sqlite database");
        store.migrate().await.expect("migrate test sqlite database");
        TestDb {
            store,
            url,
            cleanup: Cleanup::Sqlite(path),
        }
    }

    /// A migrated, uniquely named Postgres database; `None` when Postgres is unreachable
    /// outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = postgres_admin_url();
        let admin = match Store::connect(&admin_url).await {
            Ok(admin) => admin,
            Err(e) if !in_ci() => {
                eprintln!("skipping the Postgres half of this test: cannot reach Postgres ({e})");
                return None;
            }
            Err(e) => panic!("CI=true and Postgres is unreachable at {admin_url}: {e:?}"),
        };
        let name = format!("fleetdeck_test_{}", uuid::Uuid::now_v7().simple());
        // `name` is built from a UUID above: no user input reaches this statement.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.close().await;
        let url = match admin_url.rfind('/') {
            Some(slash) => format!("{}/{name}", &admin_url[..slash]),
            None => panic!("malformed Postgres URL {admin_url}"),
        };
        let store = Store::connect(&url)
            .await
            .expect("connect to test database");
        store
            .migrate()
            .await
            .expect("migrate test postgres database");
        Some(TestDb {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop runs inside the test's runtime, which cannot be blocked on: do the async
                // clean-up on a helper thread with its own small runtime. FORCE ends the test's
                // own pooled connections, which cannot be closed from here.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(admin) = Store::connect(&admin_url).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(admin.pool())
                            .await;
                            admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Defines a test that runs once on SQLite and once on Postgres.
///
/// ```ignore
/// store_test!(creates_agents, |store| {
///     // `store` is a migrated engine::Store
/// });
/// ```
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::testing::TestDb::sqlite().await;
                let $store = db.store.clone();
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = $crate::testing::TestDb::postgres().await else {
                    return;
                };
                let $store = db.store.clone();
                $body
            }
        }
    };
}

/// The password of every member [`member_with_key`] creates.
pub const TEST_PASSWORD: &str = "a long enough password";

/// Creates a member of `workspace_id` with `role` (password [`TEST_PASSWORD`]) and an API key;
/// returns (user id, key). For tests and benchmarks that call the API as a given role.
pub async fn member_with_key(
    store: &Store,
    workspace_id: &str,
    email: &str,
    role: crate::domain::MemberRole,
) -> (String, String) {
    let mut conn = store.pool().acquire().await.expect("connection");
    let member =
        crate::store::users::create(&mut conn, workspace_id, email, Some(TEST_PASSWORD), role)
            .await
            .expect("create member");
    drop(conn);
    let who = crate::auth::Principal {
        user_id: member.id.clone(),
        email: member.email,
        workspace_id: workspace_id.to_owned(),
        role,
        method: crate::auth::AuthMethod::ApiKey,
    };
    // Straight to the store: tests need keys for viewers too, who cannot make their own.
    let mut tx = store.begin().await.expect("transaction");
    let (key, _) = crate::store::api_keys::create(&mut tx, &who, "test")
        .await
        .expect("create API key");
    tx.commit().await.expect("commit");
    (member.id, key)
}
