//! Domain value types: parsed once at the boundary, valid everywhere after.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// An agent's role in a workflow: one of the five built-in roles or a custom one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub enum Role {
    /// Clarifies requirements; skipped for simple tasks.
    Analyst,
    /// Breaks the work into steps.
    Planner,
    /// Writes the code.
    Builder,
    /// Tests what was built.
    Tester,
    /// Reviews the result.
    Reviewer,
    /// A user-defined role: upper-case letters, digits and underscores.
    Custom(String),
}

impl Role {
    /// The five built-in roles in workflow order.
    pub const BUILT_IN: [Role; 5] = [
        Role::Analyst,
        Role::Planner,
        Role::Builder,
        Role::Tester,
        Role::Reviewer,
    ];

    /// Parses a role name; built-in names are matched case-insensitively.
    pub fn parse(raw: &str) -> Result<Role, Error> {
        let upper = raw.trim().to_ascii_uppercase();
        Ok(match upper.as_str() {
            "ANALYST" => Role::Analyst,
            "PLANNER" => Role::Planner,
            "BUILDER" => Role::Builder,
            "TESTER" => Role::Tester,
            "REVIEWER" => Role::Reviewer,
            "" => return Err(Error::invalid("role", "must not be empty")),
            other => {
                let valid = other.len() <= 32
                    && other
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !valid {
                    return Err(Error::invalid(
                        "role",
                        "custom roles use at most 32 letters, digits or underscores",
                    ));
                }
                Role::Custom(other.to_owned())
            }
        })
    }

    /// The canonical upper-case name stored in the database.
    pub fn as_str(&self) -> &str {
        match self {
            Role::Analyst => "ANALYST",
            Role::Planner => "PLANNER",
            Role::Builder => "BUILDER",
            Role::Tester => "TESTER",
            Role::Reviewer => "REVIEWER",
            Role::Custom(name) => name,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Role {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Role::parse(&value)
    }
}

impl From<Role> for String {
    fn from(role: Role) -> String {
        role.as_str().to_owned()
    }
}

/// A member's role inside a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Everything, including users, providers, keys and settings.
    Admin,
    /// Creates and edits agents and tasks; reads everything.
    Developer,
    /// Read-only.
    Viewer,
}

impl MemberRole {
    /// Whether this role includes everything `other` may do (admin ⊇ developer ⊇ viewer).
    pub fn includes(self, other: MemberRole) -> bool {
        self.rank() >= other.rank()
    }

    fn rank(self) -> u8 {
        match self {
            MemberRole::Viewer => 0,
            MemberRole::Developer => 1,
            MemberRole::Admin => 2,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Admin => "admin",
            MemberRole::Developer => "developer",
            MemberRole::Viewer => "viewer",
        }
    }

    /// Parses a stored or user-supplied role name.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw {
            "admin" => Ok(MemberRole::Admin),
            "developer" => Ok(MemberRole::Developer),
            "viewer" => Ok(MemberRole::Viewer),
            _ => Err(Error::invalid("role", "must be admin, developer or viewer")),
        }
    }
}

/// The kinds of LLM provider Fleetdeck speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI chat completions.
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// Google Gemini.
    Gemini,
    /// Any OpenAI-compatible server, by base URL.
    OpenaiCompatible,
    /// The built-in offline simulator.
    Simulator,
}

impl ProviderKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::OpenaiCompatible => "openai_compatible",
            ProviderKind::Simulator => "simulator",
        }
    }

    /// Parses a stored or user-supplied provider kind.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw {
            "openai" => Ok(ProviderKind::Openai),
            "anthropic" => Ok(ProviderKind::Anthropic),
            "gemini" => Ok(ProviderKind::Gemini),
            "openai_compatible" => Ok(ProviderKind::OpenaiCompatible),
            "simulator" => Ok(ProviderKind::Simulator),
            _ => Err(Error::invalid(
                "kind",
                "must be openai, anthropic, gemini, openai_compatible or simulator",
            )),
        }
    }
}

/// Checks a text field: no NUL character (Postgres refuses them in text and SQLite would store
/// a string other tools cut short) and at most `max_chars` characters.
pub fn check_text(field: &'static str, value: &str, max_chars: usize) -> Result<(), Error> {
    if value.contains('\0') {
        return Err(Error::invalid(field, "must not contain a NUL character"));
    }
    if value.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(())
}

/// An amount of money in integer micro-dollars (1 USD = 1,000,000).
///
/// Integers keep sums exact on both databases; formatting adapts to the magnitude so that small
/// per-call costs stay readable (`$0.0012`) next to large totals (`$12.34`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// Cost of `tokens` at `per_million_micros` micro-dollars per million tokens, rounded up to
    /// the next micro-dollar so that no call is ever free by rounding.
    pub fn for_tokens(tokens: i64, per_million_micros: i64) -> Money {
        let product = i128::from(tokens.max(0)) * i128::from(per_million_micros.max(0));
        let micros = (product + 999_999) / 1_000_000;
        Money(i64::try_from(micros).unwrap_or(i64::MAX))
    }
}

impl Money {
    /// Parses a dollar amount such as `2.5`, `$0.075` or `15` exactly (no floating point), to
    /// at most six decimals.
    pub fn parse_dollars(raw: &str) -> Result<Money, Error> {
        let bad = || {
            Error::invalid(
                "price",
                "must be a dollar amount like 2.50, with at most 6 decimals",
            )
        };
        let text = raw.trim().trim_start_matches('$');
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() && fraction.is_empty()
            || fraction.len() > 6
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || whole.len() > 9
        {
            return Err(bad());
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let fraction: i64 = format!("{fraction:0<6}").parse().map_err(|_| bad())?;
        Ok(Money(whole * 1_000_000 + fraction))
    }

    /// A unit price (per million tokens) with as many decimals as it needs, at least two:
    /// `$0.075`, `$2.50`, `$15.00`. Unlike [`Money`]'s `Display`, it never rounds a price.
    pub fn price(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let micros = self.0.unsigned_abs();
        let mut fraction = format!("{:06}", micros % 1_000_000);
        while fraction.len() > 2 && fraction.ends_with('0') {
            fraction.pop();
        }
        format!("{sign}${}.{fraction}", micros / 1_000_000)
    }
}

impl Money {
    /// The amount as users read it when some of it may be unpriced: "price unknown" rather than
    /// "$0.00" when nothing was priced, "$0.12 + unknown" when part was.
    pub fn label(self, price_known: bool) -> String {
        wire::cost_label(self.0, price_known)
    }
}

impl fmt::Display for Money {
    /// Adaptive formatting (see [`wire::format_micros`], shared with the browser): below one
    /// cent four decimals, otherwise two with thousands separators.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&wire::format_micros(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_adaptively() {
        assert_eq!(Money(1_200).to_string(), "$0.0012");
        assert_eq!(Money(230_000).to_string(), "$0.23");
        assert_eq!(Money(12_340_000).to_string(), "$12.34");
        assert_eq!(Money(1_234_567_000_000).to_string(), "$1,234,567.00");
        assert_eq!(Money(0).to_string(), "$0.00");
        assert_eq!(Money(-5_000_000).to_string(), "-$5.00");
    }

    #[test]
    fn dollar_amounts_parse_exactly() {
        assert_eq!(Money::parse_dollars("2.50").unwrap(), Money(2_500_000));
        assert_eq!(Money::parse_dollars("$0.075").unwrap(), Money(75_000));
        assert_eq!(Money::parse_dollars("15").unwrap(), Money(15_000_000));
        assert_eq!(Money::parse_dollars(".5").unwrap(), Money(500_000));
        for bad in ["", "-1", "1.2345678", "abc", "1e3", "1.2.3", "9999999999"] {
            assert!(Money::parse_dollars(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prices_keep_their_precision() {
        assert_eq!(Money(75_000).price(), "$0.075");
        assert_eq!(Money(2_500_000).price(), "$2.50");
        assert_eq!(Money(15_000_000).price(), "$15.00");
        assert_eq!(Money(1).price(), "$0.000001");
    }

    #[test]
    fn token_cost_rounds_up_to_a_micro_dollar() {
        // 1,000 tokens at $2.50 per million = $0.0025 = 2,500 micros.
        assert_eq!(Money::for_tokens(1_000, 2_500_000), Money(2_500));
        // One token at $0.15 per million is 0.15 micros: charged as 1.
        assert_eq!(Money::for_tokens(1, 150_000), Money(1));
        assert_eq!(Money::for_tokens(0, 150_000), Money(0));
    }

    #[test]
    fn roles_parse_and_reject() {
        assert_eq!(Role::parse("builder").unwrap(), Role::Builder);
        assert_eq!(
            Role::parse("SECURITY_AUDITOR").unwrap(),
            Role::Custom("SECURITY_AUDITOR".into())
        );
        assert!(Role::parse("").is_err());
        assert!(Role::parse("drop table;").is_err());
    }
}
