//! Inline SVG icons (stroke-based, 24×24), so no icon font or extra request is needed.

use leptos::prelude::*;

/// The icons the app uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IconName {
    /// Dashboard grid.
    Dashboard,
    /// Agents (a robot head).
    Agents,
    /// Tasks (a checklist).
    Tasks,
    /// Analytics (a chart).
    Analytics,
    /// Settings (sliders).
    Settings,
    /// Refresh (circular arrow).
    Refresh,
    /// Audit (a shield).
    Audit,
    /// Health (a pulse).
    Health,
    /// Traces (a span tree).
    Traces,
    /// Budgets (a wallet).
    Budgets,
    /// Alerts (a bell).
    Bell,
    /// Studio (a flask).
    Studio,
    /// A working directory (a folder).
    Folder,
}

fn paths(name: IconName) -> &'static str {
    match name {
        IconName::Dashboard => "M3 3h7v9H3zM14 3h7v5h-7zM14 12h7v9h-7zM3 16h7v5H3z",
        IconName::Agents => "M5 8h14v11H5zM12 4v4M9 13h.01M15 13h.01M9 16h6M2 12v3M22 12v3",
        IconName::Tasks => "M9 6h12M9 12h12M9 18h12M4 6l1 1 2-2M4 12l1 1 2-2M4 18l1 1 2-2",
        IconName::Analytics => "M4 20V10M10 20V4M16 20v-7M22 20H2",
        IconName::Settings => "M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4",
        IconName::Refresh => "M20 11A8 8 0 1 0 18 17M20 4v7h-7",
        IconName::Audit => "M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6zM9 12l2 2 4-4",
        IconName::Health => "M3 12h4l2-5 4 10 2-5h6",
        IconName::Traces => "M4 5h9M8 12h9M12 19h8M6 5v7h2M10 12v7h2",
        IconName::Budgets => "M3 7h15a3 3 0 0 1 3 3v7a3 3 0 0 1-3 3H3zM3 7l12-4v4M16 14h.01",
        IconName::Bell => "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 21h4",
        IconName::Studio => "M9 3h6M10 3v6l-5 9a2 2 0 0 0 2 3h10a2 2 0 0 0 2-3l-5-9V3M7 15h10",
        IconName::Folder => {
            "M3 6a1 1 0 0 1 1-1h5l2 2h9a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z"
        }
    }
}

/// One icon, hidden from screen readers (its label is elsewhere).
#[component]
pub fn Icon(name: IconName) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d=paths(name) />
        </svg>
    }
}
