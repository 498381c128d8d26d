//! What an agent would receive (the prompt preview) and what a task's agents said (the
//! Markdown export). The export names, for every step, the provider and model that actually
//! answered, marks simulated output, and says when and why a fallback answered.

use super::workflow;
use crate::domain::{Money, Role};
use crate::providers::{self};
use crate::store::agents;
use crate::store::tasks::{self};
use crate::{Result, Store};

pub use wire::agents::PromptPreview;

/// The prompt preview of a stored agent for `task`.
pub async fn prompt_preview(
    store: &Store,
    workspace_id: &str,
    agent_id: &str,
    task: &str,
) -> Result<PromptPreview> {
    let agent = agents::get(store.pool(), workspace_id, agent_id).await?;
    let knowledge = crate::store::knowledge::for_prompt(store.pool(), agent_id).await?;
    preview_for(
        &agent.role,
        &agent.system_prompt,
        &agent.custom_instructions,
        agent.persona(),
        &knowledge,
        !agent.tool_list().is_empty(),
        task,
    )
}

/// The prompt preview of an agent being edited (not yet saved), with its active persona.
pub fn preview_for(
    role: &str,
    system_prompt: &str,
    custom_instructions: &str,
    persona: Option<(&str, &str)>,
    knowledge: &[(String, String)],
    has_tools: bool,
    task: &str,
) -> Result<PromptPreview> {
    let role = Role::parse(role)?;
    let task = if task.trim().is_empty() {
        "(the task description goes here)"
    } else {
        task
    };
    let complexity = workflow::estimate_complexity(task);
    let system = workflow::system_prompt(
        &role,
        system_prompt,
        custom_instructions,
        persona,
        knowledge,
        complexity,
        has_tools,
    );
    let user = workflow::step_input(task, &[]);
    Ok(PromptPreview {
        complexity: complexity.as_str().to_owned(),
        tokens: providers::estimate_tokens(&system) + providers::estimate_tokens(&user),
        system_prompt: system,
        user_message: user,
    })
}

/// A task's conversations as one Markdown document (the viewer's "export as Markdown").
///
/// `price_known` is false when some call of the task used a model with no price; the cost is
/// then written as a lower bound, never as if it were the whole.
pub fn conversation_markdown(
    task: &wire::tasks::Task,
    runs: &[wire::tasks::RunConversation],
    price_known: bool,
) -> String {
    let cost = if price_known {
        Money(task.cost_micros).to_string()
    } else {
        format!(
            "{} (some calls used a model with no price)",
            Money(task.cost_micros).label(false)
        )
    };
    let mut out = format!(
        "# Task {}\n\n{}\n\n- Workflow: {}\n- Status: {}\n- Cost: {}\n- Tokens: {} prompt, {} completion\n",
        task.id,
        task.description,
        task.workflow,
        task.status,
        cost,
        task.prompt_tokens,
        task.completion_tokens
    );
    for run in runs {
        out.push_str(&format!(
            "\n## Step {} — {} ({}; answered by {}/{}{})\n\n",
            run.step_index + 1,
            run.role,
            run.agent_name,
            run.provider_kind,
            run.model,
            if run.provider_kind == "simulator" {
                " — **Simulated**: written by Fleetdeck's offline simulator, not a real model"
            } else {
                ""
            },
        ));
        if let Some(note) = &run.fallback_note {
            out.push_str(&format!("> Fallback: {note}\n\n"));
        }
        out.push_str(&format!("### System\n\n{}\n", run.system_prompt));
        for m in &run.messages {
            let who = match m.role.as_str() {
                "user" => "User",
                "assistant" => "Assistant",
                _ => "Tool result",
            };
            out.push_str(&format!("\n### {who}\n\n{}\n", m.content.trim()));
            for call in &m.tool_calls {
                let args = serde_json::to_string_pretty(&call.arguments).unwrap_or_default();
                out.push_str(&format!(
                    "\n**Tool call** `{}`\n\n```json\n{args}\n```\n",
                    call.name
                ));
            }
        }
    }
    out
}

/// A task's conversations as one Markdown document, read from the store.
pub async fn task_markdown(store: &Store, workspace_id: &str, task_id: &str) -> Result<String> {
    let task = tasks::get(store.pool(), workspace_id, task_id).await?;
    let records = tasks::records(store, workspace_id, task_id).await?;
    Ok(conversation_markdown(
        &task.to_wire(),
        &records.runs,
        records.price_known,
    ))
}
