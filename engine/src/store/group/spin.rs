//! Waiting for a SQLite commit without parking the thread.
//!
//! sqlx runs a SQLite connection on a thread of its own and answers through a channel, one
//! message per statement of a batch (`BEGIN`, the calls, the rollups, `COMMIT`). Awaited the
//! usual way, the writer task sleeps between messages, its worker thread parks, and each message
//! wakes it again: on this machine (two virtual cores) a wake-up of a parked thread costs tens of
//! microseconds, and with several per commit they were most of a group commit's time (profiled:
//! the scheduler's `finish_task_switch` and the wake-ups' spin-lock releases ~37 % of the
//! samples, SQLite's `sqlite3VdbeExec` ~4 %; the process used ~1.1 of 2 cores while recording
//! as fast as it could). So the writer polls the commit again at once, for a bounded time,
//! instead of sleeping on it: its task re-queues itself (`wake_by_ref`), so the worker thread
//! keeps running it and any other ready task in turn, and never parks while the answer is a few
//! hundred microseconds away. Past [`SPIN`] it waits the usual way.
//!
//! Measured with `make bench` (8 writers, SQLite, same binary, interleaved runs): 26–27k
//! records/s waiting the usual way, 30–39k spinning; 1 writer 5.6–6.0k → 7.1–7.7k; 64 writers
//! unchanged (~75k, batches are full there). Not used on Postgres: its answer comes through
//! tokio's I/O driver, which a spinning task delays, the gain measured was within noise, and a
//! spinning client would take a core from a database server on the same machine.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a commit is polled before the writer waits the usual way: longer than a group
/// commit usually takes (~0.1–0.3 ms here), short enough that a slow one (a checkpoint, a
/// reader holding the lock) does not keep a core busy.
const SPIN: Duration = Duration::from_millis(1);

/// `inner`, polled again at once while it is pending, for at most [`SPIN`] after the first poll.
pub(super) struct Spin<F> {
    inner: Pin<Box<F>>,
    until: Option<Instant>,
}

/// Awaits `inner` spinning when `spin` holds, the usual way otherwise.
pub(super) fn spin<F: Future>(inner: F, spin: bool) -> Spin<F> {
    Spin {
        inner: Box::pin(inner),
        until: spin.then(|| Instant::now() + SPIN),
    }
}

impl<F: Future> Future for Spin<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let polled = self.inner.as_mut().poll(cx);
        if polled.is_pending() && self.until.is_some_and(|until| Instant::now() < until) {
            // Ready to be polled again: the runtime runs other ready tasks first, then this.
            cx.waker().wake_by_ref();
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::spin;
    use std::time::Duration;

    /// What a spun wait for a value another task on this (single-threaded) runtime sends after
    /// `delay` gives; `None` if it never comes.
    async fn answered_after(delay: Duration, value: u32) -> Option<u32> {
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(value);
        });
        let answer = tokio::time::timeout(Duration::from_secs(5), spin(rx, true)).await;
        answer.ok().and_then(Result::ok)
    }

    #[tokio::test]
    async fn a_spun_future_gives_its_value_and_other_tasks_still_run() {
        // Spinning must let the sender run on the same thread.
        assert_eq!(answered_after(Duration::from_micros(200), 7).await, Some(7));
        assert_eq!(spin(async { 8 }, false).await, 8);
    }

    #[tokio::test]
    async fn past_its_time_a_spun_future_waits_the_usual_way() {
        // Still answered once the spinning is over and the task sleeps on its waker.
        assert_eq!(answered_after(Duration::from_millis(20), 9).await, Some(9));
    }
}
