//! What the server benchmarks share: a real server in process on SQLite, with an admin's API key.
#![allow(
    clippy::unwrap_used,
    reason = "benchmark code: a failed setup should stop loudly"
)]

use engine::domain::MemberRole;
use secrecy::SecretString;
use server::config::{Config, LogFormat};

/// A running server and what keeps it alive.
pub struct Bench {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// An admin's API key.
    pub key: String,
    /// The server's database.
    pub store: engine::Store,
    /// The server (kept running until dropped or stopped).
    server: Option<server::Server>,
    _db: engine::testing::TestDb,
    dir: std::path::PathBuf,
}

impl Bench {
    /// Stops the server gracefully.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a server on a fresh SQLite database with no effective rate limit.
pub async fn start(name: &str) -> Bench {
    let db = engine::testing::TestDb::sqlite().await;
    let dir = std::env::temp_dir().join(format!("fleetdeck-{name}-{}", engine::new_id()));
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.clone(),
        database_url: Some(SecretString::from(db.url.clone())),
        site_root: Some(dir.join("site")),
        log_format: LogFormat::Json,
        log: "error".into(),
        rate_limit_per_minute: 100_000_000,
        ..Config::default()
    };
    let server = server::Server::start(&config).await.unwrap();
    let store = server.store.clone();
    let ws = engine::store::workspaces::first(store.pool())
        .await
        .unwrap()
        .unwrap()
        .id;
    let (_, key) =
        engine::testing::member_with_key(&store, &ws, "bench@example.com", MemberRole::Admin).await;
    Bench {
        base: format!("http://{}", server.addr),
        key,
        store,
        server: Some(server),
        _db: db,
        dir,
    }
}
