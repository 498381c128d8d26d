//! How roles look: one colour per built-in role, used by pills (CSS) and charts.

/// The chart colour of a role; custom roles share the accent colour.
pub fn role_color(role: &str) -> &'static str {
    match role {
        "ANALYST" => "#0ea5e9",
        "PLANNER" => "#8b5cf6",
        "BUILDER" => "#22c55e",
        "TESTER" => "#f59e0b",
        "REVIEWER" => "#ec4899",
        _ => "#6366f1",
    }
}
