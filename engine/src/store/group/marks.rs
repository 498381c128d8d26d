//! Providers' last success and last failure, as Health shows them, kept by the writer task.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use sqlx::AnyPool;

use crate::Result;
use crate::store::batch::{Batch, Value};
use crate::store::llm_calls::NewLlmCall;

/// What the calls of a provider said about it and is not written yet: its last success, and
/// its last failure with the failure's class.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mark {
    ok: Option<i64>,
    failed: Option<(i64, String)>,
}

impl Mark {
    fn merge(&mut self, other: Mark) {
        self.ok = self.ok.max(other.ok);
        if let Some((at, class)) = other.failed
            && self.failed.as_ref().is_none_or(|(mine, _)| *mine < at)
        {
            self.failed = Some((at, class));
        }
    }

    /// Whether the provider is failing by these calls: its last failure is later than its
    /// last success.
    fn failing(&self) -> bool {
        self.failed.as_ref().map(|(at, _)| *at) > self.ok
    }
}

/// Providers' last success and last failure for Health, kept by the writer task. A busy
/// provider answers hundreds of calls a second and one row per provider would serialise every
/// batch on it (a statement per batch on SQLite, a row lock on Postgres), so a mark is written
/// with the next batch, or alone at once when nothing else comes, when it changes what Health
/// says (a provider starts or stops failing, or is seen for the first time by this process),
/// and otherwise at most once a second; a crash loses at most that second of timestamps, never
/// a call.
#[derive(Default)]
pub(super) struct Marks {
    pending: BTreeMap<String, Mark>,
    /// Per provider: whether it was failing by the last mark written, and when that was.
    written: HashMap<String, (bool, Instant)>,
}

/// How long a mark that changes nothing on Health may wait.
const MARK_EVERY: Duration = Duration::from_secs(1);

impl Marks {
    pub(super) fn note<'a>(&mut self, calls: impl Iterator<Item = &'a NewLlmCall>) {
        for call in calls {
            let Some(provider) = call.provider_id.as_deref() else {
                continue;
            };
            let class = call.error_class.as_deref().unwrap_or("error");
            let mark = if call.success {
                Mark {
                    ok: Some(call.created_at),
                    failed: None,
                }
            } else if class == "cancelled" {
                // A cancelled call says nothing about the provider.
                continue;
            } else {
                Mark {
                    ok: None,
                    failed: Some((call.created_at, class.to_owned())),
                }
            };
            match self.pending.get_mut(provider) {
                Some(pending) => pending.merge(mark),
                None => {
                    self.pending.insert(provider.to_owned(), mark);
                }
            }
        }
    }

    /// Takes the marks to write now (`all`: every pending one).
    pub(super) fn take(&mut self, now: Instant, all: bool) -> Vec<(String, Mark)> {
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(provider, mark)| {
                all || self.written.get(*provider).is_none_or(|(failing, at)| {
                    *failing != mark.failing() || now.duration_since(*at) >= MARK_EVERY
                })
            })
            .map(|(provider, _)| provider.clone())
            .collect();
        due.into_iter()
            .filter_map(|provider| {
                let mark = self.pending.remove(&provider)?;
                self.written.insert(provider.clone(), (mark.failing(), now));
                Some((provider, mark))
            })
            .collect()
    }

    /// Puts back marks whose batch failed.
    pub(super) fn restore(&mut self, marks: Vec<(String, Mark)>) {
        for (provider, mark) in marks {
            self.written.remove(&provider);
            self.pending.entry(provider).or_default().merge(mark);
        }
    }

    /// When the oldest held-back mark must be written.
    /// When the most urgent mark is due: at once when it changes what Health says.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.pending
            .iter()
            .map(|(provider, mark)| match self.written.get(provider) {
                Some((failing, at)) if *failing == mark.failing() => *at + MARK_EVERY,
                _ => Instant::now(),
            })
            .min()
    }
}

/// Keeps each provider's last success and last failure (with its class), only moved forward
/// (batches from several processes may commit out of order).
pub(super) fn mark_providers<'a>(batch: &mut Batch<'a>, marks: &'a [(String, Mark)]) {
    for (provider, mark) in marks {
        if let Some(at) = mark.ok {
            let sql = format!(
                "UPDATE providers SET last_success_at = {at} WHERE id = {id} \
                 AND (last_success_at IS NULL OR last_success_at < {at2})",
                at = batch.mark(1),
                id = batch.mark(2),
                at2 = batch.mark(3),
            );
            batch.push(
                sql,
                vec![Value::Int(at), Value::from(provider), Value::Int(at)],
            );
        }
        if let Some((at, class)) = &mark.failed {
            let sql = format!(
                "UPDATE providers SET last_failure_at = {at}, last_error = {class} WHERE id = {id} \
                 AND (last_failure_at IS NULL OR last_failure_at < {at2})",
                at = batch.mark(1),
                class = batch.mark(2),
                id = batch.mark(3),
                at2 = batch.mark(4),
            );
            batch.push(
                sql,
                vec![
                    Value::Int(*at),
                    Value::from(class),
                    Value::from(provider),
                    Value::Int(*at),
                ],
            );
        }
    }
}

/// Writes held-back marks in a transaction of their own (nothing else came within a second).
pub(super) async fn commit_marks(writer: &AnyPool, marks: &[(String, Mark)]) -> Result<()> {
    if marks.is_empty() {
        return Ok(());
    }
    let mut tx = writer.begin().await?;
    let mut batch = Batch::new(&tx);
    mark_providers(&mut batch, marks);
    batch.execute(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
