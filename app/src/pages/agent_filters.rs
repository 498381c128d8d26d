//! The Agents page's filter bar: words, role, tag, provider and status, kept in the URL
//! (`/agents?q=…&role=…`), so a filtered registry can be linked and survives a reload.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::agents::{AgentQuery, AgentRegistry, get_agent_page};
use crate::components::more_pages::{PagedQuery, list_url};
use wire::Page;
use wire::agents::AgentSummary;

/// The filters in the page's URL.
pub fn use_agent_query() -> Memo<AgentQuery> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        let get = |key: &str| q.get(key).unwrap_or_default();
        AgentQuery {
            q: get("q"),
            role: get("role"),
            tag: get("tag"),
            provider: get("provider"),
            status: get("status"),
            cursor: get("cursor"),
        }
    })
}

/// Whether any filter is set.
pub fn filtered(query: &AgentQuery) -> bool {
    *query
        != AgentQuery {
            cursor: query.cursor.clone(),
            ..AgentQuery::default()
        }
}

impl PagedQuery for AgentQuery {
    type Item = AgentSummary;

    fn at_cursor(&self, cursor: String) -> Self {
        Self {
            cursor,
            ..self.clone()
        }
    }

    fn url(&self) -> String {
        list_url(
            "/agents",
            &[
                ("q", &self.q),
                ("role", &self.role),
                ("tag", &self.tag),
                ("provider", &self.provider),
                ("status", &self.status),
                ("cursor", &self.cursor),
            ],
        )
    }

    fn fetch(
        self,
    ) -> impl std::future::Future<Output = Result<Page<AgentSummary>, crate::model::AppError>> + 'static
    {
        get_agent_page(self)
    }
}

/// The filter bar, with the choices the registry offers (its tags and providers).
#[component]
pub fn AgentFilters(query: AgentQuery, registry: AgentRegistry) -> impl IntoView {
    let select = |current: &str, choices: Vec<(String, String)>| {
        let current = current.to_owned();
        choices
            .into_iter()
            .map(|(value, label)| {
                let selected = value == current;
                view! { <option value=value selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let any = |label: &str| (String::new(), label.to_owned());
    let mut roles = vec![any("Any role")];
    roles.extend(
        ["ANALYST", "PLANNER", "BUILDER", "TESTER", "REVIEWER"]
            .map(|r| (r.to_owned(), r.to_owned())),
    );
    let mut tags = vec![any("Any tag")];
    tags.extend(registry.tags.iter().map(|t| (t.clone(), t.clone())));
    let mut providers = vec![
        any("Any provider"),
        ("default".to_owned(), "Workspace default".to_owned()),
    ];
    providers.extend(registry.providers.iter().cloned());
    let statuses = vec![
        any("Any status"),
        ("active".to_owned(), "Working".to_owned()),
        ("idle".to_owned(), "Idle".to_owned()),
    ];
    let total = wire::format::thousands(registry.total);
    // How many match is known when they fit on the first page; counting the matches among
    // 100,000 agents on every read is the scan the list avoids.
    let whole = query.cursor.is_empty() && registry.page.next_cursor.is_none();
    let summary = match (filtered(&query), whole) {
        (false, _) if registry.total == 1 => "1 agent in the workspace".to_owned(),
        (false, _) => format!("{total} agents in the workspace, by name"),
        (true, true) => format!(
            "{} of {total} agents match",
            wire::format::thousands(registry.page.items.len() as i64)
        ),
        (true, false) => format!("Agents that match, by name · {total} in the workspace"),
    };
    view! {
        <form class="card filter-bar" method="get" action="/agents" data-testid="agent-filters" role="search">
            <label>
                "Search"
                <input type="search" name="q" value=query.q.clone() placeholder="Name, description, model or tag" data-testid="agent-search" />
            </label>
            <label>"Role" <select name="role" data-testid="filter-role">{select(&query.role, roles)}</select></label>
            <label>"Tag" <select name="tag" data-testid="filter-tag">{select(&query.tag, tags)}</select></label>
            <label>"Provider" <select name="provider" data-testid="filter-provider">{select(&query.provider, providers)}</select></label>
            <label>"Status" <select name="status" data-testid="filter-status">{select(&query.status, statuses)}</select></label>
            <div class="filter-actions">
                <button class="button" type="submit" data-testid="apply-agent-filters">"Filter"</button>
                <a class="button button-secondary" href="/agents">"Clear"</a>
            </div>
            <p class="muted small filter-window" data-testid="agent-count" aria-live="polite">{summary}</p>
        </form>
    }
}

/// `value` as a URL query value.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
