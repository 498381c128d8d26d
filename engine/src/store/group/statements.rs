//! The statements of a group commit: the tasks' fence, the calls' rows, the steps' counters
//! and the events. Those that read nothing back are pushed onto a [`Batch`] so that SQLite gets
//! them in one round trip.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use sqlx::AnyConnection;

use super::{CallRecord, StepFacts};
use crate::Result;
use crate::events::{self, Event, Outgoing};
use crate::store::batch::{Batch, Value};
use crate::store::llm_calls::NewLlmCall;

/// `SELECT p AS a, p AS b … UNION ALL SELECT …`: a portable derived table of bound rows
/// (SQLite's `VALUES` cannot name its columns). Only placeholders and the fixed names are
/// formatted into the statement.
pub(super) fn rows_table(batch: &Batch<'_>, names: &[&str], rows: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(c, name)| format!("{} AS {name}", batch.mark(r * names.len() + c + 1)))
                .collect();
            format!("SELECT {}", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// Adds the leased records to their tasks' counters, one statement for the batch; the rows it
/// matched (id and epoch still current) are the records whose claim holds.
pub(super) async fn fence_tasks(
    conn: &mut AnyConnection,
    records: &[CallRecord],
) -> Result<HashSet<(String, i64)>> {
    // (task, epoch) → prompt, completion, cached, cost, unpriced.
    let mut deltas: BTreeMap<(&str, i64), [i64; 5]> = BTreeMap::new();
    for r in records {
        if let Some(lease) = &r.lease {
            let d = deltas
                .entry((lease.task_id.as_str(), lease.epoch))
                .or_default();
            d[0] += r.call.prompt_tokens;
            d[1] += r.call.completion_tokens;
            d[2] += r.call.cached_tokens;
            d[3] += r.call.cost_micros;
            d[4] += i64::from(!r.call.price_known);
        }
    }
    if deltas.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "UPDATE tasks SET prompt_tokens = prompt_tokens + v.dp, completion_tokens = completion_tokens + v.dc, \
         cached_tokens = cached_tokens + v.dca, cost_micros = cost_micros + v.dcost, \
         unpriced_calls = unpriced_calls + v.dun \
         FROM ({}) AS v WHERE tasks.id = v.vid AND tasks.lease_epoch = v.vepoch \
         RETURNING id, lease_epoch",
        rows_table(
            &Batch::new(conn),
            &["vid", "vepoch", "dp", "dc", "dca", "dcost", "dun"],
            deltas.len()
        )
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
    for ((task, epoch), d) in &deltas {
        query = query.bind(*task).bind(*epoch);
        for v in d {
            query = query.bind(*v);
        }
    }
    Ok(query.fetch_all(&mut *conn).await?.into_iter().collect())
}

/// Inserts calls in multi-row statements of at most 16 rows on SQLite (see [`Batch`]) and 128 on
/// Postgres.
pub(super) fn insert_calls<'a>(batch: &mut Batch<'a>, ids: &'a [String], calls: &[&'a NewLlmCall]) {
    const COLUMNS: usize = 28;
    let rows = if batch.is_sqlite() { 16 } else { 128 };
    for (ids, calls) in ids.chunks(rows).zip(calls.chunks(rows)) {
        let sql = format!(
            "INSERT INTO llm_calls (id, workspace_id, task_id, agent_run_id, agent_id, provider_kind, model, \
             prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_micros, \
             latency_ms, ttft_ms, success, error_class, attempt, created_at, provider_id, price_known, role, workflow, source, api_key_id, \
             cache_write_tokens, session_id, external_task) \
             VALUES {}",
            batch.rows(calls.len(), COLUMNS)
        );
        let mut values: Vec<Value<'a>> = Vec::with_capacity(calls.len() * COLUMNS);
        for (id, call) in ids.iter().zip(calls) {
            values.extend([
                Value::from(id),
                Value::from(&call.workspace_id),
                Value::from(&call.task_id),
                Value::from(&call.agent_run_id),
                Value::from(&call.agent_id),
                Value::from(&call.provider_kind),
                Value::from(&call.model),
                Value::Int(call.prompt_tokens),
                Value::Int(call.completion_tokens),
                Value::Int(call.cached_tokens),
                Value::Int(call.reasoning_tokens),
                Value::Int(i64::from(call.usage_estimated)),
                Value::Int(call.cost_micros),
                Value::Int(call.latency_ms),
                Value::OptInt(call.ttft_ms),
                Value::Int(i64::from(call.success)),
                Value::from(&call.error_class),
                Value::Int(call.attempt),
                Value::Int(call.created_at),
                Value::from(&call.provider_id),
                Value::Int(i64::from(call.price_known)),
                Value::from(&call.role),
                Value::from(&call.workflow),
                Value::Text(if call.source.is_empty() {
                    "agent"
                } else {
                    &call.source
                }),
                Value::from(&call.api_key_id),
                Value::Int(call.cache_write_tokens),
                Value::from(&call.session_id),
                Value::from(&call.external_task),
            ]);
        }
        batch.push(sql, values);
    }
}

/// Adds the calls to their steps' counters; the call that answered a step also records which
/// provider and model did. One statement for the batch.
pub(super) fn add_to_steps<'a>(batch: &mut Batch<'a>, steps: &[(&'a StepFacts, &'a NewLlmCall)]) {
    #[derive(Default)]
    struct Merged<'a> {
        d: [i64; 5],
        context: i64,
        answered: Option<(&'a str, &'a str, Option<&'a str>, Option<&'a str>)>,
    }
    let mut runs: BTreeMap<&str, Merged<'_>> = BTreeMap::new();
    for (facts, call) in steps {
        let m = runs.entry(facts.run_id.as_str()).or_default();
        m.d[0] += call.prompt_tokens;
        m.d[1] += call.completion_tokens;
        m.d[2] += call.cached_tokens;
        m.d[3] += call.cost_micros;
        m.d[4] += i64::from(!call.price_known);
        // In arrival order, so the latest call's context and answer win, as one by one.
        if facts.context_tokens > 0 {
            m.context = facts.context_tokens;
        }
        if let Some((provider_id, note)) = &facts.answered {
            m.answered = Some((
                call.provider_kind.as_str(),
                call.model.as_str(),
                provider_id.as_deref(),
                note.as_deref(),
            ));
        }
    }
    if runs.is_empty() {
        return;
    }
    let names = [
        "vid", "dp", "dc", "dca", "dcost", "dun", "vctx", "vans", "vkind", "vmodel", "vpid",
        "vnote",
    ];
    let sql = format!(
        "UPDATE agent_runs SET prompt_tokens = prompt_tokens + v.dp, completion_tokens = completion_tokens + v.dc, \
         cached_tokens = cached_tokens + v.dca, cost_micros = cost_micros + v.dcost, \
         unpriced_calls = unpriced_calls + v.dun, \
         context_tokens = CASE WHEN v.vctx > 0 THEN v.vctx ELSE context_tokens END, \
         provider_kind = CASE WHEN v.vans = 1 THEN v.vkind ELSE provider_kind END, \
         model = CASE WHEN v.vans = 1 THEN v.vmodel ELSE model END, \
         provider_id = CASE WHEN v.vans = 1 THEN v.vpid ELSE provider_id END, \
         fallback_note = CASE WHEN v.vans = 1 THEN v.vnote ELSE fallback_note END \
         FROM ({}) AS v WHERE agent_runs.id = v.vid",
        rows_table(batch, &names, runs.len())
    );
    let mut values: Vec<Value<'a>> = Vec::with_capacity(runs.len() * names.len());
    for (run_id, m) in &runs {
        values.push(Value::Text(run_id));
        values.extend(m.d.iter().map(|v| Value::Int(*v)));
        let (kind, model, pid, note) = m.answered.unwrap_or(("", "", None, None));
        values.extend([
            Value::Int(m.context),
            Value::Int(i64::from(m.answered.is_some())),
            Value::Text(kind),
            Value::Text(model),
            Value::OptText(pid),
            Value::OptText(note),
        ]);
    }
    batch.push(sql, values);
}

/// Numbers and stores each write's events, per workspace (one [`events::stage`] each), and
/// hands each write its own, in the order given.
pub(super) async fn stage_events(
    conn: &mut AnyConnection,
    outgoing: &[(&str, Vec<Outgoing>)],
) -> Result<Vec<Vec<Arc<Event>>>> {
    let mut by_workspace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (ws, events)) in outgoing.iter().enumerate() {
        if !events.is_empty() {
            by_workspace.entry(*ws).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<Arc<Event>>> = vec![Vec::new(); outgoing.len()];
    for (ws, members) in by_workspace {
        let all: Vec<Outgoing> = members
            .iter()
            .flat_map(|&i| outgoing[i].1.iter().cloned())
            .collect();
        let mut stored = events::stage(conn, ws, all).await?.into_iter();
        for &i in &members {
            out[i] = stored.by_ref().take(outgoing[i].1.len()).collect();
        }
    }
    Ok(out)
}
