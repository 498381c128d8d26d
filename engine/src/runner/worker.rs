//! The workers: claim a task, keep its lease alive, run its steps, end it.
//!
//! A claim carries a lease epoch (see [`crate::store::queue`]). The keeper renews the lease a
//! few times per lease period; the moment a renewal fails or finds the claim gone, the task's
//! work stops (a cancel elsewhere, or another worker took over after a stall). Every write the
//! worker makes is fenced on the epoch as well, so even a worker that has not noticed yet cannot
//! record anything for a task it no longer holds.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::{Halt, Runner, Stop, both_topics, step::StepRun, tools};
use crate::store::queue::{self, Lease};
use crate::store::tasks::{self, Task};
use wire::events::EventKind;

impl Runner {
    pub(super) async fn worker(self: Arc<Self>, n: usize) {
        let worker_id = format!("{}-{n}", self.worker_prefix);
        let mut shutdown = self.shutdown.subscribe();
        let lease_ms = self.lease_ms();
        loop {
            if *shutdown.borrow() {
                break;
            }
            match queue::claim(&self.store, &worker_id, lease_ms).await {
                Ok(Some((task, lease))) => self.run_task(task, lease).await,
                Ok(None) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(self.config.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    error!(error = %e, "claiming a task failed");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.config.lease.as_millis()).unwrap_or(15_000)
    }

    /// Publishes events for a claimed task, fenced on its lease. A lost lease stops the work;
    /// any other failure is logged (events are the live view; the rows are the record).
    pub(super) async fn emit(
        &self,
        ws: &str,
        lease: &Lease,
        events: Vec<crate::events::Outgoing>,
    ) -> Result<(), Halt> {
        match self.bus.publish_fenced(ws, lease, events).await {
            Ok(_) => Ok(()),
            Err(e @ crate::Error::LeaseLost(_)) => Err(e.into()),
            Err(e) => {
                error!(error = %e, task.id = %lease.task_id, "publishing an event failed");
                Ok(())
            }
        }
    }

    async fn run_task(self: &Arc<Self>, task: Task, lease: Lease) {
        let ws = task.workspace_id.clone();
        info!(task.id = %task.id, attempt = task.attempts, epoch = lease.epoch, "task claimed");
        if task.attempts > 1 {
            // Claimed again: the worker before died or stalled and is fenced out; what it held
            // on budgets for calls that will never be recorded goes back now.
            match crate::budgets::enforce::release_task(&self.store, &task.id).await {
                Ok(0) => {}
                Ok(n) => {
                    info!(task.id = %task.id, holds = n, "released a dead worker's budget holds")
                }
                Err(e) => error!(error = %e, task.id = %task.id, "releasing budget holds failed"),
            }
        }
        if task.attempts > 1 + self.config.max_reclaims {
            let message = format!(
                "gave up after {} claims: the task's worker stopped before finishing every time \
                 (for example the server crashed while running it)",
                task.attempts
            );
            warn!(task.id = %task.id, attempts = task.attempts, "task failed: too many claims");
            self.end(&ws, &task, &lease, Err(Halt::Failed(message)))
                .await;
            return;
        }
        let (stop_tx, stop_rx) = watch::channel(Stop::Run);
        if let Ok(mut running) = self.running.lock() {
            running.insert(task.id.clone(), stop_tx.clone());
        }
        let keeper = tokio::spawn(self.clone().keep_lease(lease.clone(), stop_tx));
        let started = self
            .emit(
                &ws,
                &lease,
                both_topics(
                    &task.id,
                    EventKind::TaskStatus,
                    json!({"task_id": task.id, "status": "running", "attempt": task.attempts}),
                ),
            )
            .await;
        let result = match started {
            Ok(()) => self.run_steps(&task, &lease, stop_rx).await,
            Err(halt) => Err(halt),
        };
        keeper.abort();
        if let Ok(mut running) = self.running.lock() {
            running.remove(&task.id);
        }
        self.end(&ws, &task, &lease, result).await;
    }

    /// Renews the lease every third of its length; stops the task's work when the claim is
    /// gone or cannot be renewed.
    async fn keep_lease(self: Arc<Self>, lease: Lease, stop: watch::Sender<Stop>) {
        let lease_ms = self.lease_ms();
        loop {
            tokio::time::sleep(self.config.renew_every.unwrap_or(self.config.lease / 3)).await;
            let why = match queue::renew(&self.store, &lease, lease_ms).await {
                Ok(true) => continue,
                Ok(false) => match tasks::status(&self.store, &lease.task_id).await {
                    Ok(s) if s == "cancelled" => Stop::Cancel,
                    _ => Stop::Lost,
                },
                Err(e) => {
                    // The lease may run out before we can renew it: stop rather than risk two
                    // workers on one task. The task is resumed by whoever claims it next.
                    warn!(error = %e, task.id = %lease.task_id, "renewing a lease failed; stopping the task's work");
                    Stop::Lost
                }
            };
            let _ = stop.send(why);
            return;
        }
    }

    /// Records how the task ended and announces it.
    async fn end(&self, ws: &str, task: &Task, lease: &Lease, result: Result<(), Halt>) {
        match result {
            Ok(()) => {
                let id = task.id.clone();
                let announce = move |t: queue::Finished| {
                    let data = json!({
                        "task_id": id, "status": "completed", "cost_micros": t.cost_micros,
                        "prompt_tokens": t.prompt_tokens, "completion_tokens": t.completion_tokens,
                    });
                    both_topics(&id, EventKind::TaskCompleted, data)
                };
                match queue::finish_announced(&self.store, lease, ws, "completed", None, announce)
                    .await
                {
                    Ok((Some(_), stored)) => {
                        info!(task.id = %task.id, "task completed");
                        self.bus.broadcast(&stored);
                    }
                    Ok((None, _)) => {}
                    Err(e) => error!(error = %e, task.id = %task.id, "finishing a task failed"),
                }
            }
            Err(Halt::Failed(message)) => {
                warn!(task.id = %task.id, error = %message, "task failed");
                let (id, why) = (task.id.clone(), message.clone());
                let announce = move |_: queue::Finished| {
                    let data = json!({"task_id": id, "status": "failed", "error": why});
                    both_topics(&id, EventKind::TaskFailed, data)
                };
                match queue::finish_announced(
                    &self.store,
                    lease,
                    ws,
                    "failed",
                    Some(&message),
                    announce,
                )
                .await
                {
                    Ok((Some(_), stored)) => self.bus.broadcast(&stored),
                    Ok((None, _)) => {}
                    Err(e) => error!(error = %e, task.id = %task.id, "failing a task failed"),
                }
            }
            Err(Halt::Stopped(Stop::Shutdown)) => {
                info!(task.id = %task.id, "task re-queued for shutdown");
                if let Err(e) = queue::requeue(&self.store, lease).await {
                    error!(error = %e, task.id = %task.id, "re-queueing a task failed");
                }
            }
            // Cancel publishes its own terminal event; a lost lease belongs to another worker.
            Err(Halt::Stopped(_)) => {}
        }
    }

    async fn run_steps(
        &self,
        task: &Task,
        lease: &Lease,
        mut stop: watch::Receiver<Stop>,
    ) -> Result<(), Halt> {
        let plan = task.planned_steps();
        // One read for the whole claim: which steps are done, which have a run to restart.
        let stored = tasks::stored_runs(&self.store, &task.id).await?;
        // A chosen directory (checked under the workspace's root at submission) is used as it
        // is and never created: gone since, the task fails saying so.
        let chosen = task.workdir.as_ref().map(std::path::PathBuf::from);
        if let Some(dir) = &chosen
            && !tokio::fs::metadata(dir).await.is_ok_and(|m| m.is_dir())
        {
            return Err(Halt::Failed(format!(
                "the working directory {} no longer exists",
                dir.display()
            )));
        }
        let dir = chosen
            .clone()
            .unwrap_or_else(|| self.config.work_root.join(&task.id));
        // Workers share one work root (ARCHITECTURE "Scale-out"): a task claimed again whose
        // files were written elsewhere must not go on as if it had none.
        if chosen.is_none() && task.attempts > 1 && tokio::fs::metadata(&dir).await.is_err() {
            let (written,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM file_changes WHERE task_id = $1 AND change_kind <> 'read'",
            )
            .bind(&task.id)
            .fetch_one(self.store.pool())
            .await
            .map_err(crate::Error::from)?;
            if written > 0 {
                return Err(Halt::Failed(format!(
                    "the task's files are not in this worker's work root ({}): every process \
                     that runs tasks must share it (FLEETDECK_DATA_DIR/tasks on shared storage)",
                    self.config.work_root.display()
                )));
            }
        }
        let workdir = tools::Workdir::open(dir)
            .await
            .map_err(|e| Halt::Failed(format!("cannot create the task directory: {e}")))?;
        let mut previous: Vec<(String, String)> = Vec::new();
        let totals = std::sync::Mutex::new((
            task.cost_micros,
            task.prompt_tokens + task.completion_tokens,
        ));
        for (i, step) in plan.iter().enumerate() {
            let index = i64::try_from(i).unwrap_or(0);
            let run = stored.iter().find(|r| r.step_index == index);
            if let Some(done) = run.filter(|r| r.status == "completed") {
                previous.push((done.role.clone(), done.output.clone()));
                continue;
            }
            let state = *stop.borrow();
            if state != Stop::Run {
                return Err(Halt::Stopped(state));
            }
            let output = StepRun {
                runner: self,
                task,
                lease,
                index,
                step,
                totals: &totals,
                existing_run: run.map(|r| r.id.clone()),
            }
            .run(&previous, &workdir, &mut stop)
            .await?;
            previous.push((step.role.clone(), output));
        }
        Ok(())
    }
}
