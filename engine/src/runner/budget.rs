//! Budgets around the runner's model calls (SPEC F-08): before each attempt its worst case is
//! held on every budget that applies ([`crate::budgets::enforce::reserve`]); the attempt's
//! record settles the hold to the real cost in the same transaction; a hold whose attempt was
//! never recorded is released.

use crate::budgets::enforce::{self, Reservation, Spender};
use crate::providers::{ChatRequest, ErrorClass, ProviderError, Usage};
use crate::store::prices::Price;
use crate::{Error, Store};

/// How long an attempt waits for other calls' holds to settle when only they stand between
/// it and its budget's room.
const HOLD_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Tokens a message costs beyond its text (role markers, separators): generous.
const PER_MESSAGE_TOKENS: i64 = 16;

/// The most an attempt of `request` can cost at `price`: every byte of the prompt a token (no
/// tokenizer the providers use makes a token of less than one byte), none of it cached, and
/// the whole `max_tokens` answered (reasoning counts within it). Never below the real cost;
/// 0 when the price is unknown (such a call's cost is unknown too, and counted as such).
pub(crate) fn worst_cost(price: Option<&Price>, request: &ChatRequest) -> i64 {
    let Some(price) = price else {
        return 0;
    };
    let prompt = request.system.len() as i64
        + json_len(&request.messages)
        + json_len(&request.tools)
        + PER_MESSAGE_TOKENS * (request.messages.len() as i64 + 1);
    super::step::cost_of(
        price,
        &Usage {
            prompt_tokens: prompt,
            completion_tokens: request.max_tokens.max(0),
            ..Usage::default()
        },
    )
}

/// The length of a value's JSON (what is sent of it is no longer).
fn json_len<T: serde::Serialize>(value: &T) -> i64 {
    serde_json::to_vec(value).map_or(0, |v| v.len() as i64)
}

/// Holds `worst` for one attempt. A refusal becomes the attempt's error, class
/// `budget_exceeded`, its message naming the budget; any other failure is the step's.
pub(crate) async fn hold(
    store: &Store,
    workspace_id: &str,
    spender: &Spender,
    worst: i64,
) -> Result<Reservation, Result<ProviderError, Error>> {
    match enforce::reserve(store, workspace_id, spender, worst, HOLD_WAIT).await {
        Ok(reservation) => Ok(reservation),
        Err(Error::BudgetExceeded(message)) => Err(Ok(ProviderError::new(
            ErrorClass::BudgetExceeded,
            format!("BUDGET_EXCEEDED: {message}"),
        ))),
        Err(e) => Err(Err(e)),
    }
}

/// Gives back a hold whose attempt was never recorded (logged, never fatal: an expired hold is
/// swept anyway).
pub(crate) async fn release(store: &Store, reservation: Option<Reservation>) {
    if let Some(r) = reservation
        && let Err(e) = enforce::release(store, &r).await
    {
        tracing::warn!(error = %e, "a budget hold was not released; it will expire");
    }
}
