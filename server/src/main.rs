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
        /// Tasks run at once in this process; 0 runs none (`fleetdeck worker` processes on
        /// the same Postgres do) [env: FLEETDECK_WORKERS] [default: 4].
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Run tasks only, beside `fleetdeck serve` processes on the same Postgres; serves just
    /// /health, /ready and /metrics on --addr.
    Worker {
        /// Address of the health and metrics endpoints [default: 127.0.0.1:3000].
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check configuration, database, migrations and site assets; exit 0 only if all pass.
    /// With `--url`, check a running instance through its health endpoint instead (an API key
    /// in FLEETDECK_API_KEY).
    Doctor {
        /// A running instance, e.g. http://127.0.0.1:3000.
        #[arg(long)]
        url: Option<String>,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Back the database up: SQLite's online copy into a timestamped file (consistent while
    /// the server runs), or pg_dump on Postgres (run when installed, else the command is
    /// printed). Keep the master key with the backups.
    Backup {
        /// Where to write it [default: DATA_DIR/backups].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Keep only the newest N backups in that directory.
        #[arg(long, value_name = "N")]
        keep: Option<usize>,
    },
    /// Put a SQLite backup in place of the database (stop the server first).
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Export calls, tasks or audit entries of a time range as CSV or JSON Lines, streamed
    /// (to stdout unless --out).
    Export {
        /// calls, tasks, audit or events.
        what: String,
        /// csv or jsonl.
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// From this date or time (UTC), e.g. 2026-11-01.
        #[arg(long)]
        from: Option<String>,
        /// Before this date or time (UTC).
        #[arg(long)]
        to: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Read the archive tables (calls and events past the hot retention) instead.
        #[arg(long)]
        archived: bool,
    },
    /// The master key that seals provider keys and channel secrets.
    MasterKey {
        #[command(subcommand)]
        command: MasterKeyCommand,
    },
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Submit a task to a running instance and follow it (a progress line per step with its
    /// tokens and cost, then a summary), or run one agent on an input (`--agent NAME "input"`:
    /// its answer streamed to stdout, its figures to stderr). Exits non-zero unless it
    /// completes. An API key of the instance in FLEETDECK_API_KEY.
    Run {
        /// A task: what to do.
        #[arg(
            long,
            value_name = "DESCRIPTION",
            conflicts_with = "agent",
            required_unless_present = "agent"
        )]
        task: Option<String>,
        /// Run this agent (by name) on INPUT instead: a playground run.
        #[arg(long, value_name = "NAME", requires = "input")]
        agent: Option<String>,
        /// The agent's input (with --agent).
        #[arg(value_name = "INPUT")]
        input: Option<String>,
        /// With --agent: a model to run instead of the agent's.
        #[arg(long, requires = "agent")]
        model: Option<String>,
        /// feature_implementation, bug_fix, code_review, documentation or custom.
        #[arg(long, default_value = "feature_implementation")]
        workflow: String,
        /// The roles of a custom workflow, in order (e.g. --step BUILDER --step REVIEWER).
        #[arg(long = "step", value_name = "ROLE")]
        steps: Vec<String>,
        /// Run the ANALYST even for a simple task.
        #[arg(long)]
        force_analyst: bool,
        /// The directory the task's tools work in: an existing directory under the instance's
        /// allowed root (Settings → Tasks), absolute or relative to it.
        #[arg(long, value_name = "DIR", conflicts_with = "agent")]
        workdir: Option<String>,
        /// The instance.
        #[arg(long, env = "FLEETDECK_URL", default_value = "http://127.0.0.1:3000")]
        url: String,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user in the default workspace.
    Create {
        /// E-mail address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Password (at least 10 characters).
        #[arg(long)]
        password: String,
        /// admin, developer or viewer.
        #[arg(long, default_value = "developer")]
        role: String,
    },
    /// List the users of the default workspace.
    List,
    /// Print a one-time sign-in link for a user.
    MagicLink {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
enum ApiKeyCommand {
    /// Create an API key for a user; the key is the last line printed.
    Create {
        /// The owner's e-mail address.
        #[arg(long)]
        email: String,
        /// A label for the key.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum MasterKeyCommand {
    /// Re-seal every stored secret with a new random key (stop every process first). With a
    /// key file, the new key replaces it (the old one is kept as master.key.old); with
    /// FLEETDECK_MASTER_KEY, the new key is printed to set on every process.
    Rotate,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Recompute every workspace's hash chain; exit non-zero if any was tampered with.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (addr, workers) = match &cli.command {
        Some(Command::Serve { addr, workers }) => (*addr, *workers),
        Some(Command::Worker { addr }) => (*addr, None),
        _ => (None, None),
    };
    let overrides = Overrides {
        addr,
        data_dir: cli.data_dir.clone(),
        config_file: cli.config.clone(),
        workers,
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
    match cli.command.unwrap_or(Command::Serve {
        addr: None,
        workers: None,
    }) {
        Command::Doctor { url: None } => runtime.block_on(server::doctor::run(&overrides)),
        Command::Doctor { url: Some(url) } => runtime.block_on(server::doctor::run_remote(
            &url,
            std::env::var("FLEETDECK_API_KEY").ok().as_deref(),
        )),
        Command::Run {
            task,
            agent,
            input,
            model,
            workflow,
            steps,
            force_analyst,
            workdir,
            url,
        } => {
            let key = std::env::var("FLEETDECK_API_KEY").ok();
            match agent {
                Some(agent) => {
                    runtime.block_on(server::run_agent::run(server::run_agent::RunAgent {
                        url: &url,
                        api_key: key.as_deref(),
                        agent: &agent,
                        input: input.as_deref().unwrap_or_default(),
                        model: model.as_deref(),
                    }))
                }
                None => runtime.block_on(server::run_task::run(server::run_task::RunTask {
                    url: &url,
                    api_key: key.as_deref(),
                    request: wire::tasks::SubmitTask {
                        description: task.unwrap_or_default(),
                        workflow,
                        force_analyst,
                        steps,
                        workdir,
                    },
                })),
            }
        }
        Command::Serve { .. } => report(runtime.block_on(serve(&overrides, false))),
        Command::Worker { .. } => report(runtime.block_on(serve(&overrides, true))),
        Command::Migrate => report(runtime.block_on(migrate(&overrides))),
        Command::User { command } => report(runtime.block_on(async {
            let config = quiet_config(&overrides)?;
            match command {
                UserCommand::Create {
                    email,
                    password,
                    role,
                } => server::cli::user_create(&config, &email, &password, &role).await,
                UserCommand::List => server::cli::user_list(&config).await,
                UserCommand::MagicLink { email } => server::cli::magic_link(&config, &email).await,
            }
        })),
        Command::ApiKey {
            command: ApiKeyCommand::Create { email, name },
        } => report(runtime.block_on(async {
            let config = quiet_config(&overrides)?;
            server::cli::api_key_create(&config, &email, &name).await
        })),
        Command::Backup { out, keep } => report(runtime.block_on(async {
            let config = quiet_config(&overrides)?;
            server::backup::backup(&config, out, keep).await
        })),
        Command::Restore { from, force } => report(runtime.block_on(async {
            let config = quiet_config(&overrides)?;
            server::backup::restore(&config, &from, force).await
        })),
        Command::Export {
            what,
            format,
            from,
            to,
            out,
            archived,
        } => report(runtime.block_on(async {
            let config = quiet_config(&overrides)?;
            server::backup::export(
                &config,
                &what,
                &format,
                from.as_deref(),
                to.as_deref(),
                out.as_deref(),
                archived,
            )
            .await
        })),
        Command::MasterKey {
            command: MasterKeyCommand::Rotate,
        } => report(runtime.block_on(async {
            let config = quiet_config(&overrides)?;
            server::cli::master_key_rotate(&config).await
        })),
        Command::Audit {
            command: AuditCommand::Verify,
        } => report(runtime.block_on(async {
            let config = quiet_config(&overrides)?;
            server::cli::audit_verify(&config).await
        })),
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

/// Configuration for one-shot commands: only warnings are logged, so output stays readable.
fn quiet_config(overrides: &Overrides) -> anyhow::Result<Config> {
    let config = Config::load(overrides)?;
    server::telemetry::init_logging(config.log_format, "warn");
    Ok(config)
}

async fn serve(overrides: &Overrides, worker_only: bool) -> anyhow::Result<()> {
    let mut config = Config::load(overrides)?;
    if worker_only {
        config.worker_only = true;
        config.workers = config.workers.max(1);
    }
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
