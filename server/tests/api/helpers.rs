//! `spawn_app`: a real server on 127.0.0.1:0 with its own throw-away database.

use std::path::PathBuf;

use engine::testing::TestDb;
use secrecy::SecretString;
use server::config::{Config, LogFormat};

use engine::domain::MemberRole;

/// The password of every test member.
pub const PASSWORD: &str = engine::testing::TEST_PASSWORD;

/// Creates a member in `ws` and an API key for them; returns (user id, key).
pub async fn member_with_key(
    app: &TestApp,
    ws: &str,
    email: &str,
    role: MemberRole,
) -> (String, String) {
    engine::testing::member_with_key(app.store(), ws, email, role).await
}

/// GETs `url` with `key` as the bearer token and reads the JSON answer (a failure panics: this
/// is for steps that must work).
pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    key: &str,
) -> T {
    client
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn default_ws(app: &TestApp) -> String {
    engine::store::workspaces::first(app.store().pool())
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A running server and what it needs to stay alive.
///
/// `base` is a proxy in front of the server that checks every response against the OpenAPI
/// document (see `contract.rs`); what it finds fails the test when the app is dropped.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub server: Option<server::Server>,
    pub data_dir: PathBuf,
    pub _db: TestDb,
    /// What the checking proxy found.
    pub contract_failures: crate::contract::Failures,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A WebSocket URL on the server itself (the checking proxy does not upgrade).
    pub fn ws_url(&self, path: &str) -> String {
        let addr = self.server.as_ref().expect("server running").addr;
        format!("ws://{addr}{path}")
    }

    pub fn store(&self) -> &engine::Store {
        &self.server.as_ref().expect("server running").store
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if std::thread::panicking() {
            return;
        }
        let failures = std::mem::take(&mut *self.contract_failures.lock().expect("failures"));
        assert!(
            failures.is_empty(),
            "responses that do not match the OpenAPI document:\n{}",
            failures.join("\n")
        );
    }
}

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Starts a server on `db`; `None` when Postgres is unreachable outside CI.
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, |_| {}).await
}

/// Like [`spawn_app`], with a chance to change the configuration first.
pub async fn spawn_app_with(db: Db, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let test_db = match db {
        Db::Sqlite => TestDb::sqlite().await,
        Db::Postgres => TestDb::postgres().await?,
    };
    let data_dir = std::env::temp_dir().join(format!("fleetdeck-app-{}", engine::new_id()));
    let mut config = Config {
        addr: "127.0.0.1:0".parse().expect("address"),
        data_dir: data_dir.clone(),
        database_url: Some(SecretString::from(test_db.url.clone())),
        site_root: Some(data_dir.join("site")),
        log_format: LogFormat::Json,
        log: "warn".into(),
        shutdown_grace_secs: 5,
        // The authorization matrix sends many requests from one address.
        rate_limit_per_minute: 100_000,
        ..Config::default()
    };
    adjust(&mut config);
    let server = server::Server::start(&config).await.expect("server starts");
    let client = engine::providers::http_client();
    // The document as the server builds it (not over HTTP: that would count against the
    // rate limit some tests set).
    let doc = serde_json::to_value(server::http::documented_routers().3).expect("document");
    let failures = crate::contract::Failures::default();
    let proxy = crate::contract::spawn_proxy(server.addr, doc, failures.clone()).await;
    Some(TestApp {
        base: format!("http://{proxy}"),
        client,
        server: Some(server),
        data_dir,
        _db: test_db,
        contract_failures: failures,
    })
}

/// Defines an async test body that runs once per database.
#[macro_export]
macro_rules! app_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite)
                    .await
                    .expect("sqlite app");
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let Some($app) = $crate::helpers::spawn_app($crate::helpers::Db::Postgres).await
                else {
                    return;
                };
                $body
            }
        }
    };
}
