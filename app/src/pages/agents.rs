//! The agent registry.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::agents::list_agents;
use crate::components::empty_state::EmptyState;
use crate::model::AgentCard;
use crate::pages::{PageHeader, loaded};

/// `/agents`.
#[component]
pub fn AgentsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_agents());
    view! {
        <Title text="Agents" />
        <PageHeader title="Agents" subtitle="The agents in this workspace and what they run on." />
        {loaded(data, 5, |agents| view! { <AgentList agents /> })}
    }
}

#[component]
fn AgentList(agents: Vec<AgentCard>) -> impl IntoView {
    if agents.is_empty() {
        return view! {
            <EmptyState
                title="No agents yet"
                message="Agents are the building blocks of every workflow: a role, a prompt and a model."
            />
        }
            .into_any();
    }
    view! {
        <div class="agent-grid" data-testid="agent-list">
            {agents.into_iter().map(|agent| view! { <AgentCardView agent /> }).collect_view()}
        </div>
    }
    .into_any()
}

#[component]
fn AgentCardView(agent: AgentCard) -> impl IntoView {
    let role_class = format!("role-pill role-{}", agent.role.to_ascii_lowercase());
    let status_class = format!("status status-{}", agent.status);
    let provider = agent.provider.unwrap_or_else(|| "No provider".to_owned());
    view! {
        <article class="agent-card" data-testid="agent-card">
            <header>
                <h2>{agent.name}</h2>
                <span class=role_class>{agent.role}</span>
            </header>
            <p class="agent-description">{agent.description}</p>
            <dl class="agent-meta">
                <div>
                    <dt>"Provider"</dt>
                    <dd>
                        {provider}
                        {agent
                            .simulated
                            .then(|| {
                                view! {
                                    <span
                                        class="badge badge-sim"
                                        title="Runs on the built-in offline simulator: outputs, tokens and costs are simulated"
                                    >
                                        "Simulated"
                                    </span>
                                }
                            })}
                    </dd>
                </div>
                <div>
                    <dt>"Model"</dt>
                    <dd>{agent.model}</dd>
                </div>
                <div>
                    <dt>"Temperature"</dt>
                    <dd>{format!("{:.1}", agent.temperature)}</dd>
                </div>
                <div>
                    <dt>"Status"</dt>
                    <dd>
                        <span class=status_class>{agent.status}</span>
                    </dd>
                </div>
            </dl>
        </article>
    }
}
