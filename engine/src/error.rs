//! The engine's error type: one enum for the whole domain boundary.
//!
//! Edges (REST handlers, `#[server]` functions, the CLI) map each variant to their own
//! representation. Database details stay inside [`Error::Db`] and are logged, never shown.

/// Shorthand for results of engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requested entity does not exist (or is not visible to the caller's workspace).
    #[error("{entity} {id} not found")]
    NotFound {
        /// What kind of thing was looked up, e.g. `"agent"`.
        entity: &'static str,
        /// The identifier that was asked for.
        id: String,
    },
    /// Input that does not satisfy the domain's rules.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// A human-readable reason, safe to show to the caller.
        reason: String,
    },
    /// A uniqueness rule was violated (e.g. two agents with the same name).
    #[error("{0}")]
    Conflict(String),
    /// The caller is not signed in, or their credentials are wrong or expired.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is signed in but their role does not allow the action.
    #[error("{0}")]
    Forbidden(String),
    /// The caller's credit balance cannot pay for the action.
    #[error("{0}")]
    InsufficientCredits(String),
    /// A hard budget that applies would be passed (or is spent): the message names it.
    #[error("{0}")]
    BudgetExceeded(String),
    /// Configuration the engine cannot work with, such as an unsupported database URL.
    #[error("configuration error: {0}")]
    Config(String),
    /// The database failed; the details are for logs only.
    #[error("database error")]
    Db(#[source] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration error")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A worker's claim on a task was taken over (its lease ran out and another worker claimed
    /// the task, or the task was re-queued): the write was refused and the worker must stop.
    #[error("the lease on task {0} was lost")]
    LeaseLost(String),
}

impl From<sqlx::Error> for Error {
    /// Unique-key violations become [`Error::Conflict`] so that edges answer 409, not 500.
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            return Error::Conflict("a record with the same unique key already exists".into());
        }
        Error::Db(err)
    }
}

impl Error {
    /// The HTTP status every edge answers this error with, so that REST handlers and server
    /// functions can never disagree about the same failure.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::NotFound { .. } => 404,
            Error::Invalid { .. } => 422,
            Error::Conflict(_) | Error::LeaseLost(_) => 409,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::InsufficientCredits(_) | Error::BudgetExceeded(_) => 402,
            Error::Config(_) | Error::Db(_) | Error::Migrate(_) => 500,
        }
    }

    /// The machine-readable code of the SPEC error body.
    pub fn code(&self) -> String {
        match self {
            Error::NotFound { entity, .. } => format!(
                "{}_NOT_FOUND",
                entity.to_ascii_uppercase().replace(' ', "_")
            ),
            Error::Invalid { .. } => "VALIDATION_FAILED".into(),
            Error::Conflict(_) | Error::LeaseLost(_) => "CONFLICT".into(),
            Error::Unauthorized(_) => "UNAUTHORIZED".into(),
            Error::Forbidden(_) => "FORBIDDEN".into(),
            Error::InsufficientCredits(_) => "INSUFFICIENT_CREDITS".into(),
            Error::BudgetExceeded(_) => "BUDGET_EXCEEDED".into(),
            Error::Config(_) | Error::Db(_) | Error::Migrate(_) => "INTERNAL".into(),
        }
    }

    /// Builds an [`Error::Invalid`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Builds an [`Error::NotFound`].
    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            entity,
            id: id.into(),
        }
    }
}
