//! First-start seed: a default workspace with the simulator provider, one agent per built-in
//! role, the default settings and the default price table.
//!
//! Seeding is idempotent: it runs at every start, creates the workspace only when none exists,
//! and only adds missing prices. It runs in one transaction, so a crash never leaves half a seed.

use crate::domain::{ProviderKind, Role};
use crate::store::agents::{self, NewAgent};
use crate::store::{prices, providers, settings, workspaces};
use crate::{Error, Result, Store};

/// Slug of the workspace created on first start.
pub const DEFAULT_WORKSPACE_SLUG: &str = "default";
/// Model the seeded agents use on the simulator.
pub const DEFAULT_SIMULATOR_MODEL: &str = "sim-standard";

/// What [`ensure_seeded`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOutcome {
    /// The default workspace's id.
    pub workspace_id: String,
    /// Whether this call created the workspace (first start).
    pub created_workspace: bool,
    /// Prices added by this call.
    pub prices_added: u64,
}

/// The built-in role prompts (the "simple" variants; the runner adds task context).
pub fn role_prompt(role: &Role) -> &'static str {
    match role {
        Role::Analyst => {
            "You are the ANALYST. Read the task, restate the goal in one sentence, list the \
             requirements and constraints you can infer, name the open questions and the risks, \
             and end with clear acceptance criteria the other agents can check their work against."
        }
        Role::Planner => {
            "You are the PLANNER. Turn the task and the analysis into a numbered plan of small, \
             verifiable steps. For each step name the files to touch and how to check it is done. \
             Keep the plan as short as the task allows."
        }
        Role::Builder => {
            "You are the BUILDER. Implement the plan step by step using the file tools. Write \
             complete, idiomatic code with no placeholders, keep changes minimal and focused, and \
             summarise every file you created or changed."
        }
        Role::Tester => {
            "You are the TESTER. Write and run tests for what the builder produced, covering the \
             acceptance criteria, edge cases and failure paths. Report what passed, what failed \
             and why."
        }
        Role::Reviewer => {
            "You are the REVIEWER. Review the changes for correctness, security, readability and \
             fit with the plan. List concrete problems by severity with the fix for each, then \
             give a verdict: approve or request changes."
        }
        Role::Custom(_) => "You are a specialised agent. Do the task you are given carefully.",
    }
}

fn default_description(role: &Role) -> &'static str {
    match role {
        Role::Analyst => "Clarifies requirements and acceptance criteria.",
        Role::Planner => "Breaks the work into small, checkable steps.",
        Role::Builder => "Writes the code, file by file.",
        Role::Tester => "Tests what was built against the criteria.",
        Role::Reviewer => "Reviews the result and gives a verdict.",
        Role::Custom(_) => "A custom agent.",
    }
}

fn title_case(role: &Role) -> String {
    let name = role.as_str();
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        out.push(if i == 0 { c } else { c.to_ascii_lowercase() });
    }
    out
}

/// Creates the default workspace and its contents when missing, and adds missing prices.
#[tracing::instrument(skip(store))]
pub async fn ensure_seeded(store: &Store) -> Result<SeedOutcome> {
    match try_seed(store).await {
        // Another instance seeded at the same moment (several servers on one Postgres): its
        // transaction won, so read what it wrote.
        Err(Error::Conflict(_)) => try_seed(store).await,
        other => other,
    }
}

async fn try_seed(store: &Store) -> Result<SeedOutcome> {
    let mut tx = store.begin().await?;
    let prices_added = prices::seed_defaults(&mut tx).await?;
    let (workspace, created) = match workspaces::first(&mut *tx).await? {
        Some(ws) => (ws, false),
        None => {
            let ws =
                workspaces::create(&mut *tx, "Default workspace", DEFAULT_WORKSPACE_SLUG).await?;
            let sim = providers::create_keyless(
                &mut *tx,
                &ws.id,
                "Simulator",
                ProviderKind::Simulator,
                None,
            )
            .await?;
            for role in Role::BUILT_IN {
                let agent = NewAgent {
                    name: title_case(&role),
                    description: default_description(&role).to_owned(),
                    provider_id: Some(sim.id.clone()),
                    model: DEFAULT_SIMULATOR_MODEL.to_owned(),
                    temperature: 0.7,
                    max_tokens: 4096,
                    system_prompt: role_prompt(&role).to_owned(),
                    custom_instructions: String::new(),
                    tags: vec!["default".to_owned()],
                    tools: wire::agents::all_tools(),
                    fallbacks: Vec::new(),
                    provider_explicit: true,
                    is_public: false,
                    input_schema: None,
                    output_schema: None,
                    role,
                };
                agents::create(&mut tx, &ws.id, &agent).await?;
            }
            settings::put(
                &mut *tx,
                &ws.id,
                settings::DEFAULT_PROVIDER,
                &sim.id.clone().into(),
            )
            .await?;
            settings::put(
                &mut *tx,
                &ws.id,
                settings::DEFAULT_MODEL,
                &DEFAULT_SIMULATOR_MODEL.into(),
            )
            .await?;
            settings::put(&mut *tx, &ws.id, settings::DEFAULT_TEMPERATURE, &0.7.into()).await?;
            (ws, true)
        }
    };
    tx.commit().await?;
    if created {
        tracing::info!(workspace.id = %workspace.id, "seeded the default workspace");
    }
    Ok(SeedOutcome {
        workspace_id: workspace.id,
        created_workspace: created,
        prices_added,
    })
}
