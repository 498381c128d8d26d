//! Enforcement around each model call (SPEC F-08, DESIGN "budgets wrap the call"): before it,
//! [`reserve`] holds the call's worst-case cost on every budget that applies — refusing with
//! [`Error::BudgetExceeded`], naming the budget, when a hard one would be passed; with its
//! record, [`settle`] turns the hold into the real cost; on failure without a record,
//! [`release`] gives it back; [`sweep`] releases what a crashed worker left past its expiry.
//! One set of functions for every source of calls (the runner now, the gateway later).
//!
//! Exact under concurrency: the check and the change are one conditional `UPDATE` (migration
//! 0010). Each transaction touches its budgets' period rows in one order (by budget id), so two
//! of them never wait for each other in a cycle on Postgres.

use sqlx::AnyConnection;

use super::{Period, time_zone};
use crate::{Error, Result, Store, new_id, now_ms};

/// How long a reservation holds before [`sweep`] may release it: longer than any call may take
/// (the retry policy's timeout), so only a crashed worker's holds ever expire.
pub const RESERVATION_TTL_MS: i64 = 15 * 60_000;

/// Who a call is spent by: the subjects a budget can limit besides the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spender {
    /// The agent making the call.
    pub agent_id: Option<String>,
    /// The user who started the task or run.
    pub user_id: Option<String>,
    /// The API key the work came in with.
    pub api_key_id: Option<String>,
    /// The task the call is for (not a budget subject: a task claimed again after a crash
    /// releases its dead worker's holds with [`release_task`]).
    pub task_id: Option<String>,
}

/// One budget's share of a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The budget.
    pub budget_id: String,
    /// The period it was held in (settled there, whenever the call ends).
    pub period_start: i64,
    /// The worst case held, micro-USD.
    pub amount_micros: i64,
}

/// What [`reserve`] held for one call; empty when no budget applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reservation {
    /// Its id (the `budget_reservations` rows').
    pub id: String,
    /// One per budget that applied, by budget id.
    pub holds: Vec<Hold>,
}

/// A budget that applies: id, name, period, amount, hard.
type Applicable = (String, String, String, i64, i64);

async fn applicable(
    conn: &mut AnyConnection,
    workspace_id: &str,
    spender: &Spender,
    hard_only: bool,
) -> Result<Vec<Applicable>> {
    let subject = |s: &Option<String>| s.clone().unwrap_or_default();
    let sql = if hard_only {
        "SELECT id, name, period, amount_micros, CAST(hard AS BIGINT) FROM budgets \
         WHERE workspace_id = $1 AND hard = 1 AND (scope = 'workspace' \
         OR (scope = 'agent' AND subject_id = $2) OR (scope = 'user' AND subject_id = $3) \
         OR (scope = 'api_key' AND subject_id = $4)) ORDER BY id"
    } else {
        "SELECT id, name, period, amount_micros, CAST(hard AS BIGINT) FROM budgets \
         WHERE workspace_id = $1 AND (scope = 'workspace' \
         OR (scope = 'agent' AND subject_id = $2) OR (scope = 'user' AND subject_id = $3) \
         OR (scope = 'api_key' AND subject_id = $4)) ORDER BY id"
    };
    Ok(sqlx::query_as(sql)
        .bind(workspace_id)
        .bind(subject(&spender.agent_id))
        .bind(subject(&spender.user_id))
        .bind(subject(&spender.api_key_id))
        .fetch_all(&mut *conn)
        .await?)
}

fn dollars(micros: i64) -> String {
    wire::format::format_micros(micros)
}

/// Holds `worst_micros` on every budget that applies to `spender` in the current period, or
/// refuses with [`Error::BudgetExceeded`] naming the first hard budget it would pass — then
/// nothing is held anywhere. Soft budgets hold too (their bars show it) but never refuse.
///
/// A call that would fit in what is spent but not beside what other calls hold right now waits
/// up to `wait` for their holds to settle (most settle far below their worst case) before it
/// is refused: otherwise a burst of calls would be refused while the budget still had room.
pub async fn reserve(
    store: &Store,
    workspace_id: &str,
    spender: &Spender,
    worst_micros: i64,
    wait: std::time::Duration,
) -> Result<Reservation> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match try_reserve(store, workspace_id, spender, worst_micros).await? {
            Attempt::Held(reservation) => return Ok(reservation),
            Attempt::Refused(message, busy) => {
                if !busy || std::time::Instant::now() >= deadline {
                    return Err(Error::BudgetExceeded(message));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
}

/// What one try at reserving came to.
enum Attempt {
    Held(Reservation),
    /// Refused, with the message naming the budget, and whether only other calls' holds were
    /// in the way (the call fits in what is spent).
    Refused(String, bool),
}

async fn try_reserve(
    store: &Store,
    workspace_id: &str,
    spender: &Spender,
    worst_micros: i64,
) -> Result<Attempt> {
    let worst = worst_micros.max(0);
    let id = new_id();
    // Most workspaces have no budget: known without a round trip for a second at a time (this
    // process's budget actions forget it at once; another process's within that second), or one
    // read, and no write transaction.
    if unlimited(workspace_id) {
        return Ok(Attempt::Held(Reservation {
            id,
            holds: Vec::new(),
        }));
    }
    {
        let mut conn = store.pool().acquire().await?;
        let any =
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM budgets WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_one(&mut *conn)
                .await?
                .0
                > 0;
        if !any {
            note_unlimited(workspace_id);
        }
        if !any
            || applicable(&mut conn, workspace_id, spender, false)
                .await?
                .is_empty()
        {
            return Ok(Attempt::Held(Reservation {
                id,
                holds: Vec::new(),
            }));
        }
    }
    let now = now_ms();
    let mut tx = store.begin().await?;
    let budgets = applicable(&mut tx, workspace_id, spender, false).await?;
    let tz = time_zone(&mut tx, workspace_id).await?;
    let mut holds = Vec::with_capacity(budgets.len());
    for (budget_id, name, period, amount, hard) in budgets {
        let (start, end) = Period::parse(&period)?.bounds(now, &tz)?;
        sqlx::query(
            "INSERT INTO budget_periods (budget_id, period_start, period_end) VALUES ($1, $2, $3) \
             ON CONFLICT (budget_id, period_start) DO NOTHING",
        )
        .bind(&budget_id)
        .bind(start)
        .bind(end)
        .execute(&mut *tx)
        .await?;
        let held = sqlx::query(
            "UPDATE budget_periods SET reserved_micros = reserved_micros + $3 \
             WHERE budget_id = $1 AND period_start = $2 \
             AND ($4 = 0 OR spent_micros + reserved_micros + $3 <= $5)",
        )
        .bind(&budget_id)
        .bind(start)
        .bind(worst)
        .bind(hard)
        .bind(amount)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if held == 0 {
            let (spent, reserved): (i64, i64) = sqlx::query_as(
                "SELECT spent_micros, reserved_micros FROM budget_periods \
                 WHERE budget_id = $1 AND period_start = $2",
            )
            .bind(&budget_id)
            .bind(start)
            .fetch_one(&mut *tx)
            .await?;
            // Dropping the transaction rolls back the holds made above.
            return Ok(Attempt::Refused(
                format!(
                    "budget \"{name}\" ({} a {period}) would be exceeded: {} spent and {} \
                     reserved this {period}, and this call may cost up to {}",
                    dollars(amount),
                    dollars(spent),
                    dollars(reserved),
                    dollars(worst)
                ),
                spent + worst <= amount,
            ));
        }
        sqlx::query(
            "INSERT INTO budget_reservations (id, budget_id, period_start, workspace_id, \
             amount_micros, expires_at, created_at, task_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&budget_id)
        .bind(start)
        .bind(workspace_id)
        .bind(worst)
        .bind(now + RESERVATION_TTL_MS)
        .bind(now)
        .bind(spender.task_id.as_deref())
        .execute(&mut *tx)
        .await?;
        holds.push(Hold {
            budget_id,
            period_start: start,
            amount_micros: worst,
        });
    }
    tx.commit().await?;
    Ok(Attempt::Held(Reservation { id, holds }))
}

/// How long "this workspace has no budget" is believed without asking the database again.
const UNLIMITED_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Workspaces seen without any budget, and when.
static UNLIMITED: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
> = std::sync::LazyLock::new(Default::default);

fn unlimited(workspace_id: &str) -> bool {
    UNLIMITED
        .lock()
        .ok()
        .and_then(|seen| seen.get(workspace_id).copied())
        .is_some_and(|at| at.elapsed() < UNLIMITED_FOR)
}

fn note_unlimited(workspace_id: &str) {
    if let Ok(mut seen) = UNLIMITED.lock() {
        if seen.len() > 10_000 {
            seen.clear();
        }
        seen.insert(workspace_id.to_owned(), std::time::Instant::now());
    }
}

/// Forgets that a workspace had no budget (a budget was just made or changed there).
pub(crate) fn budgets_changed(workspace_id: &str) {
    if let Ok(mut seen) = UNLIMITED.lock() {
        seen.remove(workspace_id);
    }
}

/// Refuses work up front when a hard budget that applies to `spender` is already spent in its
/// current period (nothing is held or charged).
pub async fn ensure_open(store: &Store, workspace_id: &str, spender: &Spender) -> Result<()> {
    let mut conn = store.pool().acquire().await?;
    let budgets = applicable(&mut conn, workspace_id, spender, true).await?;
    if budgets.is_empty() {
        return Ok(());
    }
    let tz = time_zone(&mut conn, workspace_id).await?;
    let now = now_ms();
    for (budget_id, name, period, amount, _) in budgets {
        let (start, _) = Period::parse(&period)?.bounds(now, &tz)?;
        let spent: Option<(i64,)> = sqlx::query_as(
            "SELECT spent_micros FROM budget_periods WHERE budget_id = $1 AND period_start = $2",
        )
        .bind(&budget_id)
        .bind(start)
        .fetch_optional(&mut *conn)
        .await?;
        let spent = spent.map_or(0, |(s,)| s);
        if spent >= amount {
            return Err(Error::BudgetExceeded(format!(
                "budget \"{name}\" ({} a {period}) is spent: {} this {period}",
                dollars(amount),
                dollars(spent)
            )));
        }
    }
    Ok(())
}

/// Gives back what a hold of reservation `id` still holds on `budget_id` (nothing when it was
/// settled or released already), optionally adding a call's real cost, and forgets the hold.
/// The hold's row is deleted first and its amount read back from that delete: of two
/// transactions closing the same hold (a sweep racing a late record), only the one whose
/// delete found the row gives the amount back.
async fn close(
    conn: &mut AnyConnection,
    id: &str,
    hold: &Hold,
    cost_micros: Option<i64>,
) -> Result<()> {
    let held: Option<(i64,)> = sqlx::query_as(
        "DELETE FROM budget_reservations WHERE id = $1 AND budget_id = $2 RETURNING amount_micros",
    )
    .bind(id)
    .bind(&hold.budget_id)
    .fetch_optional(&mut *conn)
    .await?;
    let held = held.map_or(0, |(a,)| a);
    let (cost, calls) = cost_micros.map_or((0, 0), |c| (c.max(0), 1));
    if held == 0 && calls == 0 {
        return Ok(());
    }
    sqlx::query(
        "UPDATE budget_periods SET reserved_micros = reserved_micros - $3, \
         spent_micros = spent_micros + $4, calls = calls + $5 \
         WHERE budget_id = $1 AND period_start = $2",
    )
    .bind(&hold.budget_id)
    .bind(hold.period_start)
    .bind(held)
    .bind(cost)
    .bind(calls)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Turns a reservation into the call's real cost, on `conn` — inside the transaction that
/// records the call, so the cost is counted exactly once with it.
pub async fn settle(
    conn: &mut AnyConnection,
    reservation: &Reservation,
    cost_micros: i64,
) -> Result<()> {
    for hold in &reservation.holds {
        close(conn, &reservation.id, hold, Some(cost_micros)).await?;
    }
    Ok(())
}

/// Settles several calls' reservations at once (a group commit's), their holds taken in budget
/// order so that concurrent transactions lock period rows in one order.
pub async fn settle_all(conn: &mut AnyConnection, settled: &[(&Reservation, i64)]) -> Result<()> {
    let mut holds: Vec<(&str, &Hold, i64)> = settled
        .iter()
        .flat_map(|(r, cost)| r.holds.iter().map(move |h| (r.id.as_str(), h, *cost)))
        .collect();
    holds.sort_by(|a, b| a.1.budget_id.cmp(&b.1.budget_id).then(a.0.cmp(b.0)));
    for (id, hold, cost) in holds {
        close(conn, id, hold, Some(cost)).await?;
    }
    Ok(())
}

/// Gives a reservation back (the call failed before costing anything, or was never made).
pub async fn release(store: &Store, reservation: &Reservation) -> Result<()> {
    if reservation.holds.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    for hold in &reservation.holds {
        close(&mut tx, &reservation.id, hold, None).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Releases every hold left for `task_id`: called when a task is claimed again (the worker
/// that held them is gone and fenced out) and when it ends. Returns how many it released.
pub async fn release_task(store: &Store, task_id: &str) -> Result<usize> {
    let left: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, budget_id, period_start, amount_micros FROM budget_reservations \
         WHERE task_id = $1 ORDER BY budget_id, id",
    )
    .bind(task_id)
    .fetch_all(store.pool())
    .await?;
    close_all(store, &left).await
}

/// Closes the given holds in one transaction (in budget-id order).
async fn close_all(store: &Store, holds: &[(String, String, i64, i64)]) -> Result<usize> {
    if holds.is_empty() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    for (id, budget_id, period_start, amount_micros) in holds {
        close(
            &mut tx,
            id,
            &Hold {
                budget_id: budget_id.clone(),
                period_start: *period_start,
                amount_micros: *amount_micros,
            },
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(holds.len())
}

/// Releases reservations past their expiry (a worker crashed between reserving and recording);
/// returns how many holds it released. Safe to run anywhere, any number of times: a hold is
/// given back by the transaction that deletes its row, once.
pub async fn sweep(store: &Store) -> Result<usize> {
    let now = now_ms();
    let expired: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, budget_id, period_start, amount_micros FROM budget_reservations \
         WHERE expires_at < $1 ORDER BY budget_id, id LIMIT 1000",
    )
    .bind(now)
    .fetch_all(store.pool())
    .await?;
    close_all(store, &expired).await
}
