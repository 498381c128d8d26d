//! The `fleetdeck` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use server::config::{Config, Overrides};

/// Fleetdeck: the self-hosted control plane for AI agents.
#[derive(Parser, Debug)]
#[command(name = "fleetdeck", version, about)]
struct Cli {
    /// A TOML configuration file (default: ./fleetdeck.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder for the SQLite database and other state [env: FLEETDECK_DATA_DIR] [default: data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web app and API (the default command).
    Serve {
        /// Address to listen on [env: FLEETDECK_ADDR] [default: 127.0.0.1:3000].
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check configuration, database, migrations and site assets; exit 0 only if all pass.
    Doctor,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let addr = match &cli.command {
        Some(Command::Serve { addr }) => *addr,
        _ => None,
    };
    let overrides = Overrides {
        addr,
        data_dir: cli.data_dir.clone(),
        config_file: cli.config.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleetdeck: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Serve { addr: None }) {
        Command::Doctor => runtime.block_on(server::doctor::run(&overrides)),
        Command::Serve { .. } => report(runtime.block_on(serve(&overrides))),
        Command::Migrate => report(runtime.block_on(migrate(&overrides))),
    }
}

/// Prints an error chain as one readable line (never a backtrace) and picks the exit code.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleetdeck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(overrides: &Overrides) -> anyhow::Result<()> {
    let config = Config::load(overrides)?;
    server::telemetry::init_logging(config.log_format, &config.log);
    let server = server::Server::start(&config).await?;
    server.run_until_signal().await
}

async fn migrate(overrides: &Overrides) -> anyhow::Result<()> {
    let config = Config::load(overrides)?;
    server::telemetry::init_logging(config.log_format, &config.log);
    let (store, _) = server::open_store(&config).await?;
    let status = store.migration_status().await?;
    store.close().await;
    println!(
        "✅ {} is migrated ({} of {} migrations applied)",
        config.database_display(),
        status.applied,
        status.expected
    );
    Ok(())
}
