//! The `fleetdeck` server: configuration, start-up, the HTTP application and the CLI commands.
//!
//! `main.rs` only parses the command line; everything else is here so that integration tests
//! can start the real server in-process on port 0 ([`Server::start`]).

pub mod backup;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod http;
pub mod mail;
pub mod run_agent;
pub mod run_task;
pub mod telemetry;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::http::AppState;

/// Opens the configured database, applies migrations and seeds the first workspace.
pub async fn open_store(config: &Config) -> anyhow::Result<(engine::Store, String)> {
    let store = match &config.database_url {
        None => engine::Store::open_sqlite_file(&config.sqlite_path()).await,
        Some(url) => engine::Store::connect(url.expose_secret()).await,
    }
    .with_context(|| format!("cannot open the database ({})", config.database_display()))?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    let seed = engine::seed::ensure_seeded(&store)
        .await
        .context("cannot seed the default workspace")?;
    Ok((store, seed.workspace_id))
}

/// A running server.
pub struct Server {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    /// The database it uses.
    pub store: engine::Store,
    runner: std::sync::Arc<engine::runner::Runner>,
    workers: Vec<JoinHandle<()>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds, migrates, seeds and starts serving in the background.
    pub async fn start(config: &Config) -> anyhow::Result<Server> {
        let (store, workspace_id) = open_store(config).await?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let addr = listener.local_addr()?;
        let mut leptos_options = config.leptos_options()?;
        leptos_options.site_addr = addr;
        let master_key = config.master_key()?;
        // Every process on one database must share one master key: one that cannot open the
        // providers' keys would fail every call, so it does not start.
        if store.backend() == engine::store::backend::Backend::Postgres {
            let closed = engine::store::providers::unopenable(&store, &master_key).await?;
            if !closed.is_empty() {
                anyhow::bail!(
                    "the master key cannot open the API keys of {} provider(s) ({}): give every \
                     process on this database the same key (FLEETDECK_MASTER_KEY, or the first \
                     server's data-dir master.key)",
                    closed.len(),
                    closed.join(", ")
                );
            }
        }
        let bus = std::sync::Arc::new(engine::events::EventBus::new(store.clone(), 4096));
        let mut runner_config = engine::runner::RunnerConfig::new(config.data_dir.join("tasks"));
        runner_config.workers = config.workers;
        runner_config.lease = Duration::from_secs(config.task_lease_secs.max(1));
        runner_config.max_reclaims = config.task_max_reclaims.max(0);
        let runner = engine::runner::Runner::new(
            store.clone(),
            bus.clone(),
            master_key.clone(),
            runner_config,
        );
        let mut workers = runner.start();
        // On Postgres, other processes' events reach this one's subscribers.
        if store.backend() == engine::store::backend::Backend::Postgres {
            workers.push(engine::listen::spawn(
                bus.clone(),
                config.database_url().expose_secret().to_owned(),
                runner.stopped(),
            ));
        }
        workers.push(tokio::spawn(prune_token_events(
            bus,
            Duration::from_secs(config.token_event_retention_hours.max(1) * 3600),
            runner.stopped(),
        )));
        let mailer = mail::LinkMailer::from_config(config)?;
        let notifier = std::sync::Arc::new(engine::alerts::notify::Notifier::new(
            master_key.clone(),
            std::sync::Arc::new(mailer.clone()),
            config.public_url(),
        ));
        if !config.worker_only {
            workers.push(tokio::spawn(retention_daily(
                store.clone(),
                engine::store::retention::Policy {
                    hot_days: config.retention_hot_days.max(0),
                    archive_days: config.retention_archive_days.max(0),
                    dir: config.data_dir.join("archive"),
                },
                runner.stopped(),
            )));
            workers.push(engine::alerts::service::spawn(
                store.clone(),
                runner.bus().clone(),
                notifier.clone(),
                Duration::from_secs(config.alert_interval_secs.max(1)),
                runner.stopped(),
            ));
        }
        let state = AppState {
            store: store.clone(),
            workspace_id,
            leptos_options,
            metrics: telemetry::metrics_handle(),
            started_at: Instant::now(),
            master_key,
            runner: runner.clone(),
            gateway: std::sync::Arc::new(engine::gateway::Gateway::default()),
            cookie_secure: config.cookie_secure,
            rate_limiter: std::sync::Arc::new(http::middleware::rate_limiter(
                config.rate_limit_per_minute,
            )),
            page_rate_limiter: std::sync::Arc::new(http::middleware::rate_limiter(
                config
                    .rate_limit_per_minute
                    .saturating_mul(http::middleware::PAGE_LIMIT_FACTOR),
            )),
            cors_origins: config.cors_origins.clone(),
            mailer,
            notifier,
        };
        let app = if config.worker_only {
            http::worker_router(state)
        } else {
            http::router(state)
        };
        let (tx, rx) = oneshot::channel::<()>();
        let grace = Duration::from_secs(config.shutdown_grace_secs);
        let task = tokio::spawn(async move {
            let (drained_tx, drained_rx) = oneshot::channel::<()>();
            let serve = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.await;
                let _ = drained_tx.send(());
            });
            // Stop waiting for slow clients once the grace period is over.
            tokio::select! {
                result = serve => result,
                () = async {
                    let _ = drained_rx.await;
                    tokio::time::sleep(grace).await;
                } => {
                    tracing::warn!("grace period over; closing remaining connections");
                    Ok(())
                }
            }
        });
        tracing::info!(%addr, database = %config.database_display(), "fleetdeck is serving");
        Ok(Server {
            addr,
            store,
            runner,
            workers,
            shutdown: Some(tx),
            task,
        })
    }

    /// The event bus (tests publish through it to exercise live delivery).
    pub fn bus(&self) -> &std::sync::Arc<engine::events::EventBus> {
        self.runner.bus()
    }

    /// Stops accepting connections, lets in-flight requests finish and closes the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Workers put their in-flight tasks back in the queue before the database closes, so a
        // restart resumes them at once instead of waiting for their leases to expire.
        self.runner.shutdown();
        for worker in self.workers.drain(..) {
            let _ = worker.await;
        }
        (&mut self.task).await.context("server task failed")??;
        self.store.close().await;
        Ok(())
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutdown requested; finishing in-flight requests");
        self.stop().await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The daily retention job: tried a minute after start and then hourly; the first process to
/// claim a day runs it (see [`engine::store::retention`]).
async fn retention_daily(
    store: engine::Store,
    policy: engine::store::retention::Policy,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        wait = Duration::from_secs(3600);
        match engine::store::retention::run_daily(&store, &policy, engine::now_ms()).await {
            Ok(Some(r)) => tracing::info!(
                archived_calls = r.archived_calls,
                archived_events = r.archived_events,
                exported_calls = r.exported_calls,
                exported_events = r.exported_events,
                expired_sessions = r.expired_sessions,
                "retention: daily run done"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "retention: daily run failed"),
        }
    }
}

/// Deletes streamed-token events older than `retention`, hourly, until shutdown. They are only
/// needed while a task is watched live; the conversation is stored with its step.
async fn prune_token_events(
    bus: std::sync::Arc<engine::events::EventBus>,
    retention: Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let keep_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    loop {
        match bus
            .prune_tokens(engine::now_ms().saturating_sub(keep_ms))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned old token events"),
            Err(e) => tracing::warn!(error = %e, "pruning token events failed"),
        }
        if *stopped.borrow_and_update() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            changed = stopped.changed() => if changed.is_err() { return },
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
