//! `fleetdeck doctor`: checks a configured instance and prints one ✅/❌ line per check.
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
