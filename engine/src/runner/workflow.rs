//! Workflow templates, complexity estimation and the system prompt an agent receives.
//!
//! Pure functions: no database, no I/O, so the browser preview, the REST estimate and the runner
//! all agree on what a task will do.

use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::{Error, Result};

/// The workflow templates of SPEC F-04.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// analyst → planner → builder → tester → reviewer.
    FeatureImplementation,
    /// analyst → builder → tester → reviewer.
    BugFix,
    /// analyst → reviewer.
    CodeReview,
    /// analyst → planner → builder → reviewer.
    Documentation,
    /// The steps the user lists.
    Custom,
}

impl Workflow {
    /// Every template, in the order the UI offers them.
    pub const ALL: [Workflow; 5] = [
        Workflow::FeatureImplementation,
        Workflow::BugFix,
        Workflow::CodeReview,
        Workflow::Documentation,
        Workflow::Custom,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::FeatureImplementation => "feature_implementation",
            Workflow::BugFix => "bug_fix",
            Workflow::CodeReview => "code_review",
            Workflow::Documentation => "documentation",
            Workflow::Custom => "custom",
        }
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            Workflow::FeatureImplementation => "Feature implementation",
            Workflow::BugFix => "Bug fix",
            Workflow::CodeReview => "Code review",
            Workflow::Documentation => "Documentation",
            Workflow::Custom => "Custom",
        }
    }

    /// Parses a stored or user-supplied name.
    pub fn parse(raw: &str) -> Result<Self> {
        Workflow::ALL
            .into_iter()
            .find(|w| w.as_str() == raw.trim())
            .ok_or_else(|| {
                Error::invalid(
                    "workflow",
                    "must be feature_implementation, bug_fix, code_review, documentation or custom",
                )
            })
    }

    /// The template's roles (empty for custom).
    pub fn roles(self) -> Vec<Role> {
        match self {
            Workflow::FeatureImplementation => Role::BUILT_IN.to_vec(),
            Workflow::BugFix => vec![Role::Analyst, Role::Builder, Role::Tester, Role::Reviewer],
            Workflow::CodeReview => vec![Role::Analyst, Role::Reviewer],
            Workflow::Documentation => {
                vec![Role::Analyst, Role::Planner, Role::Builder, Role::Reviewer]
            }
            Workflow::Custom => Vec::new(),
        }
    }
}

/// How demanding a task is; simple tasks skip the ANALYST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    /// Short and local.
    Simple,
    /// Long, cross-cutting or risky.
    Complex,
}

impl Complexity {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Complexity::Simple => "simple",
            Complexity::Complex => "complex",
        }
    }
}

/// Words that signal cross-cutting or risky work.
const COMPLEX_SIGNALS: &[&str] = &[
    "architecture",
    "authentication",
    "authorization",
    "concurrency",
    "concurrent",
    "database",
    "distributed",
    "integrate",
    "integration",
    "migrate",
    "migration",
    "multiple",
    "performance",
    "redesign",
    "refactor",
    "scalable",
    "security",
    "across",
    "payment",
    "oauth",
    "real-time",
    "realtime",
];

/// Estimates complexity from the description: long descriptions, several sentences of
/// requirements, or words that signal cross-cutting work make a task complex.
pub fn estimate_complexity(description: &str) -> Complexity {
    let lower = description.to_lowercase();
    let words = lower.split_whitespace().count();
    let signals = COMPLEX_SIGNALS
        .iter()
        .filter(|w| lower.contains(*w))
        .count();
    let sentences = lower.matches(['.', ';', '\n']).count();
    if words > 40 || signals >= 2 || (signals == 1 && words > 12) || sentences > 3 {
        Complexity::Complex
    } else {
        Complexity::Simple
    }
}

/// The roles a task will run, in order.
///
/// Simple tasks skip the ANALYST unless `force_analyst`; custom workflows run exactly the
/// listed steps.
pub fn plan_roles(
    workflow: Workflow,
    complexity: Complexity,
    force_analyst: bool,
    custom_steps: &[Role],
) -> Result<Vec<Role>> {
    if workflow == Workflow::Custom {
        if custom_steps.is_empty() || custom_steps.len() > 12 {
            return Err(Error::invalid(
                "steps",
                "a custom workflow needs 1 to 12 steps",
            ));
        }
        return Ok(custom_steps.to_vec());
    }
    Ok(workflow
        .roles()
        .into_iter()
        .filter(|r| *r != Role::Analyst || complexity == Complexity::Complex || force_analyst)
        .collect())
}

/// Checks a task description.
pub fn validate_description(description: &str) -> Result<&str> {
    let trimmed = description.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid("description", "must not be empty"));
    }
    if trimmed.chars().count() > 20_000 {
        return Err(Error::invalid(
            "description",
            "must be at most 20,000 characters",
        ));
    }
    Ok(trimmed)
}

/// Expected completion tokens of one step, by role and complexity (for estimates only).
pub fn expected_completion_tokens(role: &Role, complexity: Complexity) -> i64 {
    let base = match role {
        Role::Analyst => 220,
        Role::Planner => 200,
        Role::Builder => 450,
        Role::Tester => 180,
        Role::Reviewer => 160,
        Role::Custom(_) => 250,
    };
    match complexity {
        Complexity::Simple => base,
        Complexity::Complex => base * 2,
    }
}

/// The system prompt an agent receives for a task: its own prompt (or the role template when it
/// has none), the variant for the task's complexity, its custom instructions and the rules of
/// the working directory. What the preview shows is exactly what the model gets.
pub fn system_prompt(
    role: &Role,
    agent_prompt: &str,
    custom_instructions: &str,
    persona: Option<(&str, &str)>,
    knowledge: &[(String, String)],
    complexity: Complexity,
    has_tools: bool,
) -> String {
    let mut out = String::new();
    let base = agent_prompt.trim();
    out.push_str(if base.is_empty() {
        crate::seed::role_prompt(role)
    } else {
        base
    });
    // The persona right after the role's prompt: it shapes the voice of everything that follows.
    if let Some((name, prompt)) = persona {
        out.push_str(&format!(
            "\n\nPersona ({}):\n{}",
            name.trim(),
            prompt.trim()
        ));
    }
    out.push_str("\n\n");
    out.push_str(match complexity {
        Complexity::Simple => {
            "This is a simple task: be brief and direct, and do only what it asks."
        }
        Complexity::Complex => {
            "This is a complex task: think it through, cover edge cases and failure paths, and \
             state the assumptions you make."
        }
    });
    if has_tools {
        out.push_str(
            "\n\nYou work in the task's own directory. Use the file tools (list_files, read_file, \
             write_file) with paths relative to it; paths outside it are refused.",
        );
    }
    // Reference material before the instructions: the instructions say how to use it.
    if !knowledge.is_empty() {
        out.push_str("\n\nReference material (your knowledge sources):");
        for (name, text) in knowledge {
            out.push_str(&format!("\n\n### {}\n{}", name.trim(), text.trim()));
        }
    }
    let extra = custom_instructions.trim();
    if !extra.is_empty() {
        out.push_str("\n\nAdditional instructions:\n");
        out.push_str(extra);
    }
    out
}

/// The first user message of a step: the task and the outputs of the steps before it.
pub fn step_input(description: &str, previous: &[(String, String)]) -> String {
    let mut out = format!("## Task\n{}\n", description.trim());
    if !previous.is_empty() {
        out.push_str("\n## Work so far\n");
        for (role, output) in previous {
            out.push_str(&format!("\n### {role}\n{}\n", output.trim()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tasks_are_simple_and_skip_the_analyst() {
        let c = estimate_complexity("Fix the typo in the README");
        assert_eq!(c, Complexity::Simple);
        let roles = plan_roles(Workflow::FeatureImplementation, c, false, &[]).unwrap();
        assert_eq!(roles.first(), Some(&Role::Planner));
        let forced = plan_roles(Workflow::FeatureImplementation, c, true, &[]).unwrap();
        assert_eq!(forced.len(), 5);
    }

    #[test]
    fn cross_cutting_tasks_are_complex() {
        assert_eq!(
            estimate_complexity("Refactor the authentication layer for security"),
            Complexity::Complex
        );
    }

    #[test]
    fn custom_workflows_need_steps() {
        assert!(plan_roles(Workflow::Custom, Complexity::Simple, false, &[]).is_err());
        let steps = [Role::Builder, Role::Reviewer];
        assert_eq!(
            plan_roles(Workflow::Custom, Complexity::Simple, false, &steps).unwrap(),
            steps
        );
    }

    #[test]
    fn system_prompt_includes_instructions_and_variant() {
        let p = system_prompt(
            &Role::Builder,
            "",
            "Use tabs.",
            None,
            &[],
            Complexity::Complex,
            true,
        );
        assert!(p.starts_with("You are the BUILDER"));
        assert!(p.contains("complex task"));
        assert!(p.ends_with("Use tabs."));
    }

    #[test]
    fn a_persona_follows_the_role_prompt_under_its_name() {
        let p = system_prompt(
            &Role::Reviewer,
            "Review.",
            "",
            Some(("Strict", " Block on any missing test. ")),
            &[("Style guide".to_owned(), "Tabs.".to_owned())],
            Complexity::Simple,
            false,
        );
        assert!(p.starts_with(
            "Review.\n\nPersona (Strict):\nBlock on any missing test.\n\nThis is a simple task"
        ));
        assert!(
            p.ends_with("Reference material (your knowledge sources):\n\n### Style guide\nTabs.")
        );
    }
}
