//! Retries, backoff and fallback around any [`Provider`].
//!
//! Retryable failures (429, 5xx, timeouts, resets, cut streams, malformed answers) are retried
//! with exponential backoff and full jitter, or after exactly the provider's `Retry-After` when it
//! sent one. 400/401/403 are never retried against the same target. When a target is exhausted
//! the next one in the fallback chain (another provider or model) is tried. Every attempt is
//! handed to the caller's `record` callback as it ends, so that it becomes an `llm_calls` row
//! before the next attempt starts (a crash never loses a finished attempt).
//!
//! When the caller's `stop` future resolves (a cancel or a shutdown) the attempt in flight is
//! cut off and still handed to `record`, as [`ErrorClass::Cancelled`] with the usage streamed so
//! far — estimated, and marked so, when the provider reported none — because the provider bills
//! it whether or not we wait for the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;

use super::{
    ChatRequest, Completion, DeltaSink, ErrorClass, Provider, ProviderError, Usage, elapsed_ms,
    estimate_request_tokens,
};

/// How hard to try.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per target, the first one included.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles each time.
    pub base_delay: Duration,
    /// Upper bound of one backoff or honoured `Retry-After`.
    pub max_delay: Duration,
    /// Limit of one attempt, streaming included.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry number `retry` (1 for the first retry) after `err`.
    pub fn delay(&self, retry: u32, err: &ProviderError, rng: &mut impl Rng) -> Duration {
        if let Some(after) = err.retry_after {
            return after.min(self.max_delay);
        }
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        // Full jitter keeps many clients that failed together from retrying together.
        let millis = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.random_range(millis / 2..=millis.max(1)))
    }
}

/// One model to try: a provider client and the model name to ask it for.
#[derive(Clone)]
pub struct Target {
    /// The client.
    pub provider: Arc<dyn Provider>,
    /// Model name for this target.
    pub model: String,
}

/// One finished attempt, success or failure.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Index into the target chain.
    pub target: usize,
    /// Model asked.
    pub model: String,
    /// 1-based attempt number on this target.
    pub number: u32,
    /// Unix ms when it started.
    pub started_at: i64,
    /// Wall time.
    pub latency_ms: i64,
    /// The answer or the failure.
    pub result: Result<Completion, ProviderError>,
}

/// Runs `request` against the chain until one attempt succeeds, calling `record` after every
/// attempt (before any pause, so a UI can drop the partial stream of a failed attempt).
///
/// Returns the index of the target that answered with its completion. When `stop` resolves,
/// the attempt in flight is recorded as cancelled and the error returned is
/// [`ErrorClass::Cancelled`].
///
/// `gate` runs before each attempt with the target's index and the request as it will be sent
/// (budgets reserve the attempt's worst case there); its error ends the chain at once, with no
/// attempt made or recorded.
pub async fn complete<R, F, S, G, GF>(
    targets: &[Target],
    request: &ChatRequest,
    policy: &RetryPolicy,
    on_delta: DeltaSink<'_>,
    mut gate: G,
    mut record: R,
    stop: S,
) -> Result<(usize, Completion), ProviderError>
where
    R: FnMut(Attempt) -> F,
    F: std::future::Future<Output = Attempt>,
    S: std::future::Future<Output = ()>,
    G: FnMut(usize, &ChatRequest) -> GF,
    GF: std::future::Future<Output = Result<(), ProviderError>>,
{
    let mut stop = std::pin::pin!(stop);
    let mut last = ProviderError::new(ErrorClass::BadRequest, "no provider configured");
    for (index, target) in targets.iter().enumerate() {
        let mut req = request.clone();
        req.model.clone_from(&target.model);
        for number in 1..=policy.max_attempts.max(1) {
            gate(index, &req).await?;
            let started_at = crate::now_ms();
            let start = Instant::now();
            // Characters streamed by this attempt, to estimate the usage of one cut short.
            let streamed = AtomicI64::new(0);
            let counting = |delta: &str| {
                let n = i64::try_from(delta.chars().count()).unwrap_or(0);
                streamed.fetch_add(n, Ordering::Relaxed);
                on_delta(delta);
            };
            let call =
                tokio::time::timeout(policy.timeout, target.provider.complete(&req, &counting));
            let (result, stopped) = tokio::select! {
                outcome = call => match outcome {
                    Ok(result) => (result, false),
                    Err(_) => (
                        Err(ProviderError::new(
                            ErrorClass::Timeout,
                            format!("no complete answer within {}s", policy.timeout.as_secs()),
                        )),
                        false,
                    ),
                },
                () = &mut stop => (
                    Err(ProviderError::new(ErrorClass::Cancelled, "stopped before the answer was complete")),
                    true,
                ),
            };
            let result = result.map_err(|mut err| {
                let chars = streamed.load(Ordering::Relaxed);
                if err.partial_usage.is_none() && (stopped || chars > 0) {
                    // The provider sent no usage for an answer it started: estimate what it
                    // will bill (the whole prompt and what was streamed) and say so.
                    err.partial_usage = Some(Usage {
                        prompt_tokens: estimate_request_tokens(&req),
                        completion_tokens: (chars + 3) / 4,
                        estimated: true,
                        ..Usage::default()
                    });
                }
                err
            });
            let attempt = Attempt {
                target: index,
                model: target.model.clone(),
                number,
                started_at,
                latency_ms: elapsed_ms(start),
                result,
            };
            // The recorder hands the attempt back so the answer need not be cloned.
            let attempt = record(attempt).await;
            let err = match attempt.result {
                Ok(completion) => return Ok((index, completion)),
                Err(err) => err,
            };
            if stopped {
                return Err(err);
            }
            let retry = err.class.retryable() && number < policy.max_attempts;
            if !retry {
                last = err;
                break;
            }
            let pause = policy.delay(number, &err, &mut rand::rng());
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = &mut stop => {
                    return Err(ProviderError::new(ErrorClass::Cancelled, "stopped while waiting to retry"));
                }
            }
            last = err;
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let policy = RetryPolicy::default();
        let mut rng = rand::rng();
        let err = ProviderError::new(ErrorClass::ServerError, "x");
        for retry in 1..6 {
            let d = policy.delay(retry, &err, &mut rng);
            let cap = policy.base_delay * 2u32.pow(retry - 1);
            assert!(d <= cap.min(policy.max_delay) && d >= cap.min(policy.max_delay) / 2);
        }
        let mut limited = ProviderError::new(ErrorClass::RateLimited, "x");
        limited.retry_after = Some(Duration::from_secs(7));
        assert_eq!(policy.delay(1, &limited, &mut rng), Duration::from_secs(7));
        limited.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(policy.delay(1, &limited, &mut rng), policy.max_delay);
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(ErrorClass::RateLimited.retryable());
        assert!(ErrorClass::StreamCut.retryable());
        assert!(!ErrorClass::Auth.retryable());
        assert!(!ErrorClass::BadRequest.retryable());
        assert!(!ErrorClass::Cancelled.retryable());
    }
}
