//! `fleetdeck doctor`: checks a configured instance and prints one ✅/❌ line per check.
//!
//! With `--url` it checks a running instance instead, through `GET /api/v1/system/health`
//! (authenticated with `FLEETDECK_API_KEY`): the instance's own view of its database, workers,
//! queue and providers.
//!
//! It never changes anything (no migrations, no files created) and never prints a stack trace;
//! the exit code is 0 only when every check passes.

use std::process::ExitCode;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::config::{Config, Overrides};

struct Report {
    failures: usize,
}

impl Report {
    fn pass(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("✅ {what}: {detail}");
    }

    fn fail(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.failures += 1;
        println!("❌ {what}: {detail}");
    }
}

/// Runs every check and returns the process exit code.
pub async fn run(overrides: &Overrides) -> ExitCode {
    let mut report = Report { failures: 0 };
    let config = match Config::load(overrides) {
        Ok(config) => {
            report.pass(
                "configuration",
                format!(
                    "listen on {}, database {}",
                    config.addr,
                    config.database_display()
                ),
            );
            config
        }
        Err(e) => {
            report.fail("configuration", e);
            println!("1 check failed");
            return ExitCode::FAILURE;
        }
    };

    check_database(&config, &mut report).await;
    check_site(&config, &mut report);

    if report.failures == 0 {
        println!("All checks passed.");
        ExitCode::SUCCESS
    } else {
        println!(
            "{} check{} failed.",
            report.failures,
            if report.failures == 1 { "" } else { "s" }
        );
        ExitCode::FAILURE
    }
}

/// Checks a running instance at `url` through its health endpoint.
pub async fn run_remote(url: &str, api_key: Option<&str>) -> ExitCode {
    let mut report = Report { failures: 0 };
    let Some(key) = api_key.filter(|k| !k.is_empty()) else {
        report.fail(
            "API key",
            "set FLEETDECK_API_KEY to a key of the instance (Settings → API keys)",
        );
        return ExitCode::FAILURE;
    };
    let endpoint = format!("{}/api/v1/system/health", url.trim_end_matches('/'));
    // The engine's client: the same TLS set-up as provider calls.
    let client = engine::providers::http_client();
    let request = client
        .get(&endpoint)
        .bearer_auth(key)
        .timeout(Duration::from_secs(10));
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            report.fail("instance", format!("{url} does not answer: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let status = response.status();
    if !status.is_success() {
        let why = match status.as_u16() {
            401 => "the API key was refused".to_owned(),
            404 => {
                "no health endpoint there: is it a Fleetdeck instance of this version?".to_owned()
            }
            code => format!("answered HTTP {code}"),
        };
        report.fail("instance", why);
        return ExitCode::FAILURE;
    }
    let health: wire::ops::SystemHealth = match response.json().await {
        Ok(h) => h,
        Err(e) => {
            report.fail("instance", format!("unreadable health answer: {e}"));
            return ExitCode::FAILURE;
        }
    };
    report.pass(
        "instance",
        format!(
            "{url}: version {}, up {} s",
            health.version, health.uptime_secs
        ),
    );
    report.pass(
        "database",
        format!(
            "{} answers in {:.1} ms",
            health.database, health.database_latency_ms
        ),
    );
    let alive = health.workers.iter().filter(|w| w.alive).count();
    if alive > 0 {
        report.pass("workers", format!("{alive} alive"));
    } else {
        report.fail("workers", "none alive: queued tasks will wait");
    }
    report.pass(
        "queue",
        format!(
            "{} queued, {} running",
            health.queued_tasks, health.running_tasks
        ),
    );
    report.pass(
        "last 24 hours",
        format!(
            "{} failed tasks, {} of {} calls failed",
            health.failed_tasks_24h, health.failed_calls_24h, health.calls_24h
        ),
    );
    for problem in health
        .problems
        .iter()
        .filter(|p| !p.starts_with("no worker"))
    {
        report.fail("health", problem);
    }
    if report.failures == 0 {
        println!("All checks passed.");
        ExitCode::SUCCESS
    } else {
        println!(
            "{} check{} failed.",
            report.failures,
            if report.failures == 1 { "" } else { "s" }
        );
        ExitCode::FAILURE
    }
}

async fn check_database(config: &Config, report: &mut Report) {
    if config.database_url.is_none() && !config.sqlite_path().exists() {
        report.fail(
            "database reachable",
            format!(
                "{} does not exist yet; `fleetdeck migrate` or `fleetdeck serve` creates it",
                config.sqlite_path().display()
            ),
        );
        report.fail("migrations current", "no database to check");
        return;
    }
    let url = config.database_url();
    let connect = engine::Store::connect(url.expose_secret());
    let store = match tokio::time::timeout(Duration::from_secs(8), connect).await {
        Ok(Ok(store)) => store,
        Ok(Err(e)) => {
            report.fail(
                "database reachable",
                format!("{}: {}", config.database_display(), describe(&e)),
            );
            report.fail("migrations current", "no database to check");
            return;
        }
        Err(_) => {
            report.fail(
                "database reachable",
                format!("{}: no answer within 8 s", config.database_display()),
            );
            report.fail("migrations current", "no database to check");
            return;
        }
    };
    match store.ping().await {
        Ok(latency) => report.pass(
            "database reachable",
            format!(
                "{} answered in {:.1} ms",
                config.database_display(),
                latency.as_secs_f64() * 1000.0
            ),
        ),
        Err(e) => report.fail("database reachable", describe(&e)),
    }
    check_master_key(config, &store, report).await;
    match store.migration_status().await {
        Ok(status) if status.is_current() => report.pass(
            "migrations current",
            format!("{} of {} applied", status.applied, status.expected),
        ),
        Ok(status) if status.unknown > 0 => report.fail(
            "migrations current",
            format!(
                "the database has {} migration(s) this binary does not know; upgrade fleetdeck",
                status.unknown
            ),
        ),
        Ok(status) => report.fail(
            "migrations current",
            format!(
                "{} of {} applied; run `fleetdeck migrate`",
                status.applied, status.expected
            ),
        ),
        Err(e) => report.fail("migrations current", describe(&e)),
    }
    store.close().await;
}

/// Whether the configured master key opens the providers' stored keys (every process on one
/// database must share one key).
async fn check_master_key(config: &Config, store: &engine::Store, report: &mut Report) {
    let configured = config
        .master_key
        .as_ref()
        .map(|k| k.expose_secret().to_owned());
    let key = match engine::auth::secrets::MasterKey::load_existing(
        &config.data_dir,
        configured.as_deref(),
    ) {
        Ok(key) => key,
        Err(e) => return report.fail("master key", e),
    };
    let key = match key {
        Some(key) => key,
        // No key yet: one is made on first start, unless secrets exist that need the old one.
        None => match engine::auth::secrets::MasterKey::generate() {
            Ok(key) => key,
            Err(e) => return report.fail("master key", e),
        },
    };
    match engine::store::providers::unopenable(store, &key).await {
        Ok(closed) if closed.is_empty() => report.pass("master key", "opens every stored provider key"),
        Ok(closed) => report.fail(
            "master key",
            format!(
                "cannot open the API keys of {} ({}): use the key the other processes use (FLEETDECK_MASTER_KEY or the data dir's master.key)",
                closed.len(),
                closed.join(", ")
            ),
        ),
        // Before migrations there is no providers table to check.
        Err(_) => report.pass("master key", "no stored keys to check yet"),
    }
}

fn check_site(config: &Config, report: &mut Report) {
    match config.site_files() {
        Ok(files) => {
            let missing: Vec<_> = files.iter().filter(|f| !f.is_file()).collect();
            if missing.is_empty() {
                report.pass("site assets", format!("{} files present", files.len()));
            } else {
                let list: Vec<_> = missing.iter().map(|f| f.display().to_string()).collect();
                report.fail(
                    "site assets",
                    format!("missing {}; run `make build`", list.join(", ")),
                );
            }
        }
        Err(e) => report.fail("site assets", e),
    }
}

/// The error and its causes on one line, without internals such as backtraces.
fn describe(err: &engine::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
