//! Reusable components.

pub mod agent_search;
pub mod alert_bell;
pub mod chart;
pub mod empty_state;
pub mod icons;
pub mod layout;
pub mod live;
pub mod load_error;
pub mod more_pages;
pub mod palette;
pub mod role;
pub mod stat_card;
pub mod theme;
pub mod toast;
