//! Write statements gathered to be sent in as few round trips as the backend allows.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is a hand-over to
//! that thread and back, and on a busy machine the hand-overs, not SQLite, were most of the time
//! a group commit took (profiled: `sqlite3VdbeExec` ~2 % of the samples, the channel's futex
//! wake-ups ~40 %). SQLite runs several `;`-separated statements sent as one query, so the
//! writes of a batch whose results nobody reads (calls, rollups, steps' counters, events) go
//! as one. They use anonymous `?` parameters there, bound in order across the statements (a
//! numbered `$N` costs SQLite a search of its parameter names per bind, quadratic in a
//! statement's parameters). Postgres refuses several statements in one prepared query, so there
//! each is sent on its own with `$N` parameters, as before.

use sqlx::AnyConnection;

/// A value to bind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Int(i64),
    Text(&'a str),
    OptText(Option<&'a str>),
    OptInt(Option<i64>),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v.as_str())
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Value::OptText(v)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Value::OptText(v.as_deref())
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::OptInt(v)
    }
}

/// Statements and their values, in order.
pub(crate) struct Batch<'a> {
    sqlite: bool,
    statements: Vec<(String, Vec<Value<'a>>)>,
}

impl<'a> Batch<'a> {
    /// An empty batch for `conn`'s backend.
    pub(crate) fn new(conn: &AnyConnection) -> Self {
        Batch {
            sqlite: conn.backend_name().eq_ignore_ascii_case("sqlite"),
            statements: Vec::new(),
        }
    }

    /// Whether the batch goes to SQLite (where statements are cheap to send together and
    /// multi-row statements are best kept short) rather than Postgres (where each statement is
    /// a round trip).
    pub(crate) fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Adds a statement, its placeholders written with [`Batch::mark`] or [`Batch::rows`].
    pub(crate) fn push(&mut self, sql: String, values: Vec<Value<'a>>) {
        self.statements.push((sql, values));
    }

    /// The placeholder of parameter `n` (1-based within its statement).
    pub(crate) fn mark(&self, n: usize) -> String {
        if self.sqlite {
            "?".to_owned()
        } else {
            format!("${n}")
        }
    }

    /// `(p, p, …)` rows of `width` placeholders each, numbered from 1.
    pub(crate) fn rows(&self, rows: usize, width: usize) -> String {
        let mut out = String::with_capacity(rows * width * 5);
        for r in 0..rows {
            if r > 0 {
                out.push_str(", ");
            }
            out.push('(');
            for c in 0..width {
                if c > 0 {
                    out.push_str(", ");
                }
                out.push_str(&self.mark(r * width + c + 1));
            }
            out.push(')');
        }
        out
    }

    /// Sends the statements: as one query on SQLite, one by one on Postgres.
    pub(crate) async fn execute(self, conn: &mut AnyConnection) -> crate::Result<()> {
        if self.statements.is_empty() {
            return Ok(());
        }
        if self.sqlite {
            let sql = self
                .statements
                .iter()
                .map(|(sql, _)| sql.as_str())
                .collect::<Vec<_>>()
                .join(";\n");
            let values: Vec<Value<'a>> = self.statements.into_iter().flat_map(|(_, v)| v).collect();
            run(conn, sql, values).await
        } else {
            for (sql, values) in self.statements {
                run(conn, sql, values).await?;
            }
            Ok(())
        }
    }
}

async fn run(conn: &mut AnyConnection, sql: String, values: Vec<Value<'_>>) -> crate::Result<()> {
    // Only placeholders and fixed names are ever formatted into batched statements.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for value in values {
        query = match value {
            Value::Int(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
            Value::OptText(v) => query.bind(v),
            Value::OptInt(v) => query.bind(v),
        };
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
