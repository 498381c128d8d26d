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

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

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

    /// Sends the statements one by one, on both backends: for bulk loads of many statements
    /// of one shape, each prepared once and reused from the connection's statement cache (a
    /// query of a thousand statements would be prepared whole, every time).
    pub(crate) async fn execute_each(self, conn: &mut AnyConnection) -> crate::Result<()> {
        for (sql, values) in self.statements {
            run(conn, sql, values).await?;
        }
        Ok(())
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

impl Batch<'_> {
    /// Sends the statements as one transaction of their own on a connection that is in none,
    /// in one round trip: on SQLite as one query, `BEGIN IMMEDIATE` and `COMMIT` included (a
    /// transaction begun and committed through sqlx is two more hand-overs), after a failure
    /// rolled back, and a connection that cannot say it was is closed, never handed back to the
    /// pool inside a transaction; on Postgres as one statement (below), atomic by itself.
    pub(crate) async fn execute_atomic(self, conn: &mut PoolConnection<Any>) -> crate::Result<()> {
        if self.statements.is_empty() {
            return Ok(());
        }
        if !self.sqlite {
            return self.execute_as_one(conn).await;
        }
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        for (statement, _) in &self.statements {
            sql.push_str(statement);
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT");
        let values: Vec<Value<'_>> = self.statements.into_iter().flat_map(|(_, v)| v).collect();
        let result = run(conn, sql, values).await;
        if result.is_err() && sqlx::query("ROLLBACK").execute(&mut **conn).await.is_err() {
            // Nothing open to roll back (BEGIN itself failed), or a connection in an unknown
            // state: it is not reused either way.
            conn.close_on_drop();
        }
        result
    }
}

impl Batch<'_> {
    /// Postgres: the statements as the parts of one statement, `WITH s1 AS (…), s2 AS (…)
    /// SELECT 1` (data-modifying `WITH` parts all run, in one snapshot: none may read what
    /// another writes, and none does here), each one's `$N` moved past the parameters of the
    /// parts before it.
    async fn execute_as_one(self, conn: &mut AnyConnection) -> crate::Result<()> {
        let mut sql = String::from("WITH ");
        let mut offset = 0;
        for (i, (statement, values)) in self.statements.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("s{i} AS ("));
            sql.push_str(&shift_placeholders(statement, offset));
            sql.push(')');
            offset += values.len();
        }
        sql.push_str(" SELECT 1");
        let values: Vec<Value<'_>> = self.statements.into_iter().flat_map(|(_, v)| v).collect();
        run(conn, sql, values).await
    }
}

/// `sql` with each `$N` made `$(N + offset)`. Batched statements hold only fixed names and
/// placeholders, so every `$` is a placeholder's.
fn shift_placeholders(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n: usize = 0;
        let mut digits = false;
        while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
            n = n * 10 + (d as usize - '0' as usize);
            digits = true;
            chars.next();
        }
        if digits {
            out.push_str(&(n + offset).to_string());
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::shift_placeholders;

    #[test]
    fn placeholders_move_past_the_earlier_parts() {
        assert_eq!(
            shift_placeholders("UPDATE t SET a = $1, b = $12 WHERE id = $2", 30),
            "UPDATE t SET a = $31, b = $42 WHERE id = $32"
        );
        assert_eq!(shift_placeholders("SELECT 1", 5), "SELECT 1");
    }
}
