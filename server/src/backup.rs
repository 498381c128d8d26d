//! `fleetdeck backup`, `fleetdeck restore` and `fleetdeck export`: the operator's copies of
//! the data.
//!
//! On SQLite a backup is SQLite's own online copy (`VACUUM INTO`): consistent while the server
//! runs and writes, compacted, into a timestamped file; `--keep N` removes the oldest beyond
//! N. On Postgres the right tool is `pg_dump`: it is run when installed, and otherwise the
//! command is printed. A restore (SQLite) puts a backup file in place of the database after
//! checking it opens and is Fleetdeck's; the master key (`master.key` in the data directory,
//! or `FLEETDECK_MASTER_KEY`) is not in the backup and must be kept with it, or provider keys
//! cannot be unsealed.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::ExposeSecret;

use crate::config::Config;

/// The prefix of backup files (what `--keep` counts).
const PREFIX: &str = "fleetdeck-";

/// `fleetdeck backup`.
pub async fn backup(
    config: &Config,
    out_dir: Option<PathBuf>,
    keep: Option<usize>,
) -> anyhow::Result<()> {
    let dir = out_dir.unwrap_or_else(|| config.data_dir.join("backups"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S").to_string();
    match &config.database_url {
        None => {
            let target = dir.join(format!("{PREFIX}{stamp}.db"));
            if target.exists() {
                bail!(
                    "{} exists already: wait a second and run again",
                    target.display()
                );
            }
            let (store, _) = crate::open_store(config).await?;
            // SQLite's online backup: a consistent copy while others write.
            engine::store::export::sqlite_backup(&store, &target)
                .await
                .with_context(|| format!("cannot write the backup to {}", target.display()))?;
            store.close().await;
            let size = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
            println!(
                "✅ backed up {} to {} ({:.1} MB)",
                config.database_display(),
                target.display(),
                size as f64 / 1_000_000.0
            );
            if let Some(keep) = keep {
                prune(&dir, ".db", keep)?;
            }
        }
        Some(url) => {
            let target = dir.join(format!("{PREFIX}{stamp}.dump"));
            let shown = format!(
                "pg_dump --format=custom --file={} \"$DATABASE_URL\"",
                target.display()
            );
            let found = std::process::Command::new("pg_dump")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            if !found {
                bail!(
                    "pg_dump is not installed here; back up {} with:\n  {shown}\n(restore with: pg_restore --clean --dbname \"$DATABASE_URL\" FILE)",
                    config.database_display()
                );
            }
            // The connection goes through libpq's environment, never the command line (which
            // other users of the machine can read).
            let status = std::process::Command::new("pg_dump")
                .args(["--format=custom", "--file"])
                .arg(&target)
                .envs(libpq_env(url.expose_secret())?)
                .status()
                .context("cannot run pg_dump")?;
            if !status.success() {
                bail!("pg_dump failed ({status}); the command was: {shown}");
            }
            println!(
                "✅ backed up {} to {}",
                config.database_display(),
                target.display()
            );
            if let Some(keep) = keep {
                prune(&dir, ".dump", keep)?;
            }
        }
    }
    println!(
        "   Keep the master key with it (master.key in the data directory, or FLEETDECK_MASTER_KEY): provider keys cannot be read without it."
    );
    Ok(())
}

/// libpq's environment variables for a `postgres://` URL.
fn libpq_env(url: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let url = reqwest::Url::parse(url).context("DATABASE_URL is not a URL")?;
    let decode = percent_decode;
    let mut env = vec![("PGHOST", url.host_str().unwrap_or("localhost").to_owned())];
    if let Some(port) = url.port() {
        env.push(("PGPORT", port.to_string()));
    }
    if !url.username().is_empty() {
        env.push(("PGUSER", decode(url.username())));
    }
    if let Some(password) = url.password() {
        env.push(("PGPASSWORD", decode(password)));
    }
    let db = url.path().trim_start_matches('/');
    if !db.is_empty() {
        env.push(("PGDATABASE", decode(db)));
    }
    for (k, v) in url.query_pairs() {
        if k == "sslmode" {
            env.push(("PGSSLMODE", v.into_owned()));
        }
    }
    Ok(env)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Removes the oldest backups in `dir` (by their timestamped names) beyond `keep`.
fn prune(dir: &Path, extension: &str, keep: usize) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(extension))
        })
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(keep);
    for old in files.into_iter().take(excess) {
        std::fs::remove_file(&old).with_context(|| format!("cannot remove {}", old.display()))?;
        println!("   removed the older backup {}", old.display());
    }
    Ok(())
}

/// `fleetdeck restore --from FILE`: SQLite only (the server must be stopped).
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<()> {
    if config.database_url.is_some() {
        bail!(
            "{} is Postgres: restore a pg_dump file with pg_restore --clean --dbname \"$DATABASE_URL\" {}",
            config.database_display(),
            from.display()
        );
    }
    if !from.is_file() {
        bail!("{} is not a file", from.display());
    }
    // The file must open as a Fleetdeck database before anything is replaced.
    let check = engine::Store::open_sqlite_file(from)
        .await
        .with_context(|| format!("{} is not a SQLite database", from.display()))?;
    let ours = engine::store::export::is_fleetdeck(&check).await;
    check.close().await;
    if !ours {
        bail!("{} is not a Fleetdeck database", from.display());
    }
    let target = config.sqlite_path();
    if target.exists() && !force {
        bail!(
            "{} exists: stop the server, then run again with --force to replace it",
            target.display()
        );
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Copied beside the target, then renamed over it: never a half-written database.
    let partial = target.with_extension("db.restoring");
    std::fs::copy(from, &partial)
        .with_context(|| format!("cannot copy {} to {}", from.display(), partial.display()))?;
    for stale in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(target.with_extension(stale));
    }
    std::fs::rename(&partial, &target)?;
    // Migrations newer than the backup are applied now.
    let (store, _) = crate::open_store(config).await?;
    store.close().await;
    println!("✅ restored {} from {}", target.display(), from.display());
    println!("   Check it with: fleetdeck doctor");
    Ok(())
}

/// `fleetdeck export`.
pub async fn export(
    config: &Config,
    what: &str,
    format: &str,
    from: Option<&str>,
    to: Option<&str>,
    out: Option<&Path>,
    archived: bool,
) -> anyhow::Result<()> {
    use engine::store::export::{Format, Kind};
    let kind = Kind::parse(what).map_err(|e| anyhow::anyhow!("{e}"))?;
    let format = Format::parse(format).map_err(|e| anyhow::anyhow!("{e}"))?;
    let from = from.map(|t| time("--from", t)).transpose()?.unwrap_or(0);
    let to = to.map(|t| time("--to", t)).transpose()?.unwrap_or(i64::MAX);
    let (store, _) = crate::open_store(config).await?;
    let rows = match out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            engine::store::export::export_from(&store, kind, archived, format, from, to, file)
                .await?
        }
        None => {
            let stdout = std::io::stdout().lock();
            engine::store::export::export_from(&store, kind, archived, format, from, to, stdout)
                .await?
        }
    };
    store.close().await;
    eprintln!("exported {rows} {what}");
    Ok(())
}

/// A date (`2026-11-01`, midnight UTC) or an RFC 3339 time, as Unix ms.
fn time(flag: &str, raw: &str) -> anyhow::Result<i64> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    if let Ok(d) = raw.parse::<jiff::civil::Date>() {
        let t = d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
        return Ok(t.timestamp().as_millisecond());
    }
    bail!("{flag}: use a date (2026-11-01) or a time (2026-11-01T09:30:00Z)")
}
