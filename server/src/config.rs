//! Typed configuration: defaults, then an optional `fleetdeck.toml`, then `FLEETDECK_*`
//! environment variables (and `DATABASE_URL`), then command-line flags — later wins.
//!
//! Every setting and its default is listed in README.md; keep the two in step.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use leptos_config::LeptosOptions;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The file the site layout comes from, compiled in.
const LEPTOS_TOML: &str = include_str!("../../Leptos.toml");

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (default; for log shippers).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Fleetdeck's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on. `FLEETDECK_ADDR`, `--addr`; default `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// Folder for the SQLite database and other state. `FLEETDECK_DATA_DIR`, `--data-dir`;
    /// default `./data`.
    pub data_dir: PathBuf,
    /// Database URL; unset means SQLite at `<data_dir>/fleetdeck.db`. `DATABASE_URL`.
    #[serde(skip_serializing)]
    pub database_url: Option<SecretString>,
    /// Where the built site (wasm, JS, CSS, assets) is served from. `FLEETDECK_SITE_ROOT`;
    /// default from Leptos.toml (`target/site`).
    pub site_root: Option<PathBuf>,
    /// `json` or `pretty`. `FLEETDECK_LOG_FORMAT`; default `json`.
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `fleetdeck=debug,info`. `FLEETDECK_LOG`; default
    /// `info`.
    pub log: String,
    /// The key that seals provider API keys (base64 of 32 bytes). `FLEETDECK_MASTER_KEY`;
    /// default: a key generated into `<data_dir>/master.key` (mode 0600) on first start.
    #[serde(skip_serializing)]
    pub master_key: Option<SecretString>,
    /// Mark session cookies `Secure` (set when Fleetdeck is served over https).
    /// `FLEETDECK_COOKIE_SECURE`; default `false`.
    pub cookie_secure: bool,
    /// Requests per minute allowed per client IP and per API key. `FLEETDECK_RATE_LIMIT_PER_MINUTE`;
    /// default 100.
    pub rate_limit_per_minute: u32,
    /// Origins allowed to call the API from other sites (CORS), e.g.
    /// `["https://ops.example.com"]`. `FLEETDECK_CORS_ORIGINS`; default none.
    pub cors_origins: Vec<String>,
    /// SMTP server for sign-in links, e.g. `smtp://user:pass@mail.example.com:587?tls=required`
    /// or `smtps://…`. `FLEETDECK_SMTP_URL`; default none (links go to the server log).
    #[serde(skip_serializing)]
    pub smtp_url: Option<SecretString>,
    /// Sender of Fleetdeck's e-mails. `FLEETDECK_SMTP_FROM`; default `Fleetdeck <fleetdeck@localhost>`.
    pub smtp_from: String,
    /// The address users reach Fleetdeck at, for links in e-mails. `FLEETDECK_PUBLIC_URL`;
    /// default `http://<addr>`.
    pub public_url: Option<String>,
    /// Seconds to let in-flight requests finish on shutdown. `FLEETDECK_SHUTDOWN_GRACE_SECS`;
    /// default 30.
    pub shutdown_grace_secs: u64,
    /// Background workers running tasks at once (0: this process runs none, other processes
    /// on the same Postgres do). `FLEETDECK_WORKERS` or `serve --workers`; default 4.
    pub workers: usize,
    /// `fleetdeck worker`: run tasks and serve only `/health`, `/ready` and `/metrics`.
    #[serde(skip)]
    pub worker_only: bool,
    /// Seconds after which a task whose worker stopped renewing its lease (a crash) is claimed
    /// again. `FLEETDECK_TASK_LEASE_SECS`; default 15.
    pub task_lease_secs: u64,
    /// Times a task may be claimed again after its worker stopped (crashed or stalled) before
    /// it ends `failed`. `FLEETDECK_TASK_MAX_RECLAIMS`; default 3.
    pub task_max_reclaims: i64,
    /// Hours streamed-token events are kept (the conversation itself is stored with each step).
    /// `FLEETDECK_TOKEN_EVENT_RETENTION_HOURS`; default 24.
    pub token_event_retention_hours: u64,
    /// Days raw calls and events stay in the hot tables before the daily retention job moves
    /// them to the archive tables (rollups keep analytics whole). `FLEETDECK_RETENTION_HOT_DAYS`;
    /// default 90; 0 keeps them forever.
    pub retention_hot_days: i64,
    /// Days they then stay in the archive tables before being written to compressed JSON
    /// Lines files under DATA_DIR/archive and deleted. `FLEETDECK_RETENTION_ARCHIVE_DAYS`;
    /// default 365; 0 keeps them archived forever.
    pub retention_archive_days: i64,
    /// Seconds between two evaluations of the alert rules (they also run soon after a call's
    /// cost or a step's end). `FLEETDECK_ALERT_INTERVAL_SECS`; default 30.
    pub alert_interval_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            site_root: None,
            log_format: LogFormat::Json,
            log: "info".to_owned(),
            master_key: None,
            cookie_secure: false,
            rate_limit_per_minute: 100,
            cors_origins: Vec::new(),
            smtp_url: None,
            smtp_from: "Fleetdeck <fleetdeck@localhost>".to_owned(),
            public_url: None,
            shutdown_grace_secs: 30,
            workers: 4,
            worker_only: false,
            task_lease_secs: 15,
            task_max_reclaims: 3,
            token_event_retention_hours: 24,
            alert_interval_secs: 30,
            retention_hot_days: 90,
            retention_archive_days: 365,
        }
    }
}

/// Values given on the command line, which override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--addr`.
    pub addr: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--config`: the TOML file to read instead of `./fleetdeck.toml`.
    pub config_file: Option<PathBuf>,
    /// `serve --workers`.
    pub workers: Option<usize>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source held a value of the wrong type or an unknown format.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// `--config` named a file that does not exist.
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
}

impl Config {
    /// Loads the configuration from every source.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let file = match &overrides.config_file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.clone())),
            Some(path) => path.clone(),
            None => std::env::var_os("FLEETDECK_CONFIG")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("fleetdeck.toml")),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("FLEETDECK_").ignore(&["CONFIG"]))
            .merge(Env::raw().only(&["DATABASE_URL"]));
        if let Some(addr) = overrides.addr {
            figment = figment.merge(Serialized::default("addr", addr));
        }
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        if let Some(workers) = overrides.workers {
            figment = figment.merge(Serialized::default("workers", workers));
        }
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        // An empty DATABASE_URL means "not set", as in most tools.
        if config
            .database_url
            .as_ref()
            .is_some_and(|url| url.expose_secret().trim().is_empty())
        {
            config.database_url = None;
        }
        Ok(config)
    }

    /// The master key that seals provider API keys.
    pub fn master_key(&self) -> Result<engine::auth::secrets::MasterKey, ConfigError> {
        engine::auth::secrets::MasterKey::load_or_create(
            &self.data_dir,
            self.master_key.as_ref().map(|k| k.expose_secret()),
        )
        .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The base URL for links in e-mails.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The SQLite file used when no `DATABASE_URL` is set.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("fleetdeck.db")
    }

    /// The database URL in effect (SQLite in the data dir unless `DATABASE_URL` is set).
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => SecretString::from(engine::store::backend::sqlite_url(&self.sqlite_path())),
        }
    }

    /// A description of the database that is safe to print (no password).
    pub fn database_display(&self) -> String {
        match &self.database_url {
            None => format!("SQLite at {}", self.sqlite_path().display()),
            Some(url) => {
                let url = url.expose_secret();
                match (url.find("://"), url.rfind('@')) {
                    (Some(scheme), Some(at)) if at > scheme => {
                        format!("{}://…@{}", &url[..scheme], &url[at + 1..])
                    }
                    _ => url.to_owned(),
                }
            }
        }
    }

    /// The Leptos options: Leptos.toml compiled in, with this configuration's address and site
    /// root applied.
    pub fn leptos_options(&self) -> Result<LeptosOptions, ConfigError> {
        let mut options = leptos_config::get_config_from_str(LEPTOS_TOML)
            .map_err(|e| ConfigError::Invalid(format!("Leptos.toml: {e}")))?;
        options.site_addr = self.addr;
        if let Some(root) = &self.site_root {
            options.site_root = root.to_string_lossy().into();
        }
        Ok(options)
    }

    /// The files a working site needs, relative to nothing (absolute or cwd-relative paths).
    pub fn site_files(&self) -> Result<Vec<PathBuf>, ConfigError> {
        let options = self.leptos_options()?;
        let root = Path::new(&*options.site_root);
        let pkg = root.join(&*options.site_pkg_dir);
        let name = &*options.output_name;
        Ok(vec![
            pkg.join(format!("{name}.js")),
            pkg.join(format!("{name}_bg.wasm")),
            pkg.join(format!("{name}.css")),
            root.join("echarts.min.js"),
        ])
    }
}
