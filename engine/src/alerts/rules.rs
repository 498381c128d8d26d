//! Alert rules: one per kind and workspace, each with a few numbers. A kind an admin never
//! changed runs with the seed's defaults (no row is written for it), so every workspace is
//! watched from its first call.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::AnyConnection;
use wire::alerts::{AlertRule, AlertRuleInput};

use super::Severity;
use crate::actions::Caller;
use crate::auth::Principal;
use crate::domain::MemberRole;
use crate::{Error, Result, Store, now_ms};

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A budget's period passed one of its thresholds.
    BudgetThreshold,
    /// This hour's spending passed a multiple of the same hour's average over the last days.
    CostSpike,
    /// A running task made no progress (no event) for a while.
    StuckAgent,
    /// An agent under way filled most of its model's context window.
    ContextWindow,
    /// Too many of an agent's last calls failed.
    FailureRate,
    /// An agent spent more than an amount over the last hours.
    AgentCost,
}

/// One number of a rule.
struct Param {
    key: &'static str,
    default: f64,
    min: f64,
    max: f64,
    help: &'static str,
}

/// A kind's defaults.
struct Def {
    kind: Kind,
    description: &'static str,
    enabled: bool,
    severity: Severity,
    params: &'static [Param],
}

const DEFS: [Def; 6] = [
    Def {
        kind: Kind::BudgetThreshold,
        description: "A budget's period passes one of its thresholds (each budget sets its own, \
                      50/80/100 % by default); 100 % and more is critical.",
        enabled: true,
        severity: Severity::Warning,
        params: &[],
    },
    Def {
        kind: Kind::CostSpike,
        description: "This hour's spending passes a multiple of the same hour's average over the \
                      last days.",
        enabled: true,
        severity: Severity::Warning,
        params: &[
            Param {
                key: "factor",
                default: 2.0,
                min: 1.1,
                max: 100.0,
                help: "Times the trailing average",
            },
            Param {
                key: "days",
                default: 7.0,
                min: 1.0,
                max: 30.0,
                help: "Days of the same hour averaged",
            },
            Param {
                key: "min_usd",
                default: 1.0,
                min: 0.0,
                max: 1_000_000.0,
                help: "Ignore hours spending less than this (dollars)",
            },
        ],
    },
    Def {
        kind: Kind::StuckAgent,
        description: "A running task makes no progress (no event at all) for a while.",
        enabled: true,
        severity: Severity::Warning,
        params: &[Param {
            key: "minutes",
            default: 10.0,
            min: 0.01,
            max: 1440.0,
            help: "Minutes without progress",
        }],
    },
    Def {
        kind: Kind::ContextWindow,
        description: "An agent under way has filled most of its model's context window.",
        enabled: true,
        severity: Severity::Warning,
        params: &[Param {
            key: "percent",
            default: 80.0,
            min: 1.0,
            max: 100.0,
            help: "Share of the context window (%)",
        }],
    },
    Def {
        kind: Kind::FailureRate,
        description: "Too many of an agent's most recent calls (within the last hour) failed.",
        enabled: true,
        severity: Severity::Critical,
        params: &[
            Param {
                key: "percent",
                default: 50.0,
                min: 1.0,
                max: 100.0,
                help: "Failed share that fires (%)",
            },
            Param {
                key: "calls",
                default: 20.0,
                min: 2.0,
                max: 500.0,
                help: "How many recent calls are looked at",
            },
        ],
    },
    Def {
        kind: Kind::AgentCost,
        description: "An agent spends more than an amount over the last hours.",
        enabled: false,
        severity: Severity::Warning,
        params: &[
            Param {
                key: "usd",
                default: 10.0,
                min: 0.01,
                max: 1_000_000.0,
                help: "Dollars",
            },
            Param {
                key: "hours",
                default: 24.0,
                min: 1.0,
                max: 168.0,
                help: "Over the last hours",
            },
        ],
    },
];

impl Kind {
    /// Every kind, in the order the Rules page lists them.
    pub const ALL: [Kind; 6] = [
        Kind::BudgetThreshold,
        Kind::CostSpike,
        Kind::StuckAgent,
        Kind::ContextWindow,
        Kind::FailureRate,
        Kind::AgentCost,
    ];

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BudgetThreshold => "budget_threshold",
            Kind::CostSpike => "cost_spike",
            Kind::StuckAgent => "stuck_agent",
            Kind::ContextWindow => "context_window",
            Kind::FailureRate => "failure_rate",
            Kind::AgentCost => "agent_cost",
        }
    }

    /// The kind named `raw`.
    pub fn parse(raw: &str) -> Result<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| Error::not_found("alert rule", raw))
    }

    fn def(self) -> &'static Def {
        // DEFS lists every kind once (a unit test checks it).
        DEFS.iter().find(|d| d.kind == self).unwrap_or(&DEFS[0])
    }
}

/// A rule as the evaluator runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its kind.
    pub kind: Kind,
    /// Whether it runs.
    pub enabled: bool,
    /// The severity of what it opens.
    pub severity: Severity,
    params: BTreeMap<&'static str, f64>,
    /// Whether nothing was changed from the defaults.
    pub is_default: bool,
}

impl Rule {
    fn default_of(kind: Kind) -> Rule {
        let def = kind.def();
        Rule {
            kind,
            enabled: def.enabled,
            severity: def.severity,
            params: def.params.iter().map(|p| (p.key, p.default)).collect(),
            is_default: true,
        }
    }

    /// A parameter's value (its default when unset).
    pub fn param(&self, key: &str) -> f64 {
        self.params.get(key).copied().unwrap_or_else(|| {
            self.kind
                .def()
                .params
                .iter()
                .find(|p| p.key == key)
                .map_or(0.0, |p| p.default)
        })
    }

    /// Sets parameters from JSON: every key must be the kind's and every value a number in
    /// its range; errors name the parameter.
    fn apply(&mut self, params: &serde_json::Map<String, Value>) -> Result<()> {
        for (key, value) in params {
            let Some(param) = self.kind.def().params.iter().find(|p| p.key == key) else {
                let known: Vec<&str> = self.kind.def().params.iter().map(|p| p.key).collect();
                return Err(Error::invalid(
                    "params",
                    if known.is_empty() {
                        format!("{} takes no parameters", self.kind.as_str())
                    } else {
                        format!("unknown parameter {key}: use {}", known.join(", "))
                    },
                ));
            };
            let number = value
                .as_f64()
                .filter(|n| n.is_finite() && *n >= param.min && *n <= param.max)
                .ok_or_else(|| {
                    Error::invalid(
                        "params",
                        format!("{key} must be a number from {} to {}", param.min, param.max),
                    )
                })?;
            self.params.insert(param.key, number);
        }
        Ok(())
    }

    fn to_wire(&self) -> AlertRule {
        let def = self.kind.def();
        AlertRule {
            kind: self.kind.as_str().to_owned(),
            description: def.description.to_owned(),
            enabled: self.enabled,
            severity: self.severity.as_str().to_owned(),
            params: json!(self.params),
            param_help: def
                .params
                .iter()
                .map(|p| (p.key.to_owned(), p.help.to_owned()))
                .collect(),
            is_default: self.is_default,
        }
    }
}

/// The workspace's rules, every kind, stored settings over the defaults. A stored row that no
/// longer reads (a parameter since removed) falls back to the defaults for what it cannot say.
pub async fn load(conn: &mut AnyConnection, workspace_id: &str) -> Result<Vec<Rule>> {
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT kind, enabled, severity, params FROM alert_rules WHERE workspace_id = $1",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut rules: Vec<Rule> = Kind::ALL.into_iter().map(Rule::default_of).collect();
    for (kind, enabled, severity, params) in rows {
        let Some(rule) = rules.iter_mut().find(|r| r.kind.as_str() == kind) else {
            continue;
        };
        rule.enabled = enabled != 0;
        rule.severity = Severity::parse(&severity, "severity").unwrap_or(rule.severity);
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&params) {
            for (key, value) in map {
                let mut one = serde_json::Map::new();
                one.insert(key, value);
                // A value that no longer validates keeps its default.
                let _ = rule.apply(&one);
            }
        }
        rule.is_default = false;
    }
    Ok(rules)
}

/// Every rule with its settings (every member may read them).
pub async fn list(store: &Store, who: &Principal) -> Result<Vec<AlertRule>> {
    let mut conn = store.pool().acquire().await?;
    Ok(load(&mut conn, &who.workspace_id)
        .await?
        .iter()
        .map(Rule::to_wire)
        .collect())
}

/// Changes a rule (admins): fields left out keep their values.
pub async fn update(
    store: &Store,
    caller: Caller<'_>,
    kind: &str,
    input: &AlertRuleInput,
) -> Result<AlertRule> {
    caller.who.require(MemberRole::Admin)?;
    let kind = Kind::parse(kind)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    let mut rule = load(&mut tx, ws)
        .await?
        .into_iter()
        .find(|r| r.kind == kind)
        .unwrap_or_else(|| Rule::default_of(kind));
    if let Some(enabled) = input.enabled {
        rule.enabled = enabled;
    }
    if let Some(severity) = &input.severity {
        rule.severity = Severity::parse(severity, "severity")?;
    }
    if let Some(params) = &input.params {
        rule.apply(params)?;
    }
    rule.is_default = false;
    let params = json!(rule.params).to_string();
    sqlx::query(
        "INSERT INTO alert_rules (workspace_id, kind, enabled, severity, params, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (workspace_id, kind) DO UPDATE SET enabled = excluded.enabled, \
         severity = excluded.severity, params = excluded.params, updated_at = excluded.updated_at",
    )
    .bind(ws)
    .bind(kind.as_str())
    .bind(i64::from(rule.enabled))
    .bind(rule.severity.as_str())
    .bind(&params)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    caller
        .audit(
            &mut tx,
            "alert_rule.update",
            format!("alert_rule:{}", kind.as_str()),
            json!({ "enabled": rule.enabled, "severity": rule.severity.as_str(),
                    "params": rule.params }),
        )
        .await?;
    tx.commit().await?;
    Ok(rule.to_wire())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_seed() {
        let on: Vec<&str> = Kind::ALL
            .into_iter()
            .map(Rule::default_of)
            .filter(|r| r.enabled)
            .map(|r| r.kind.as_str())
            .collect();
        assert_eq!(
            on,
            vec![
                "budget_threshold",
                "cost_spike",
                "stuck_agent",
                "context_window",
                "failure_rate"
            ]
        );
        let stuck = Rule::default_of(Kind::StuckAgent);
        assert_eq!(stuck.param("minutes"), 10.0);
        assert_eq!(Rule::default_of(Kind::CostSpike).param("factor"), 2.0);
        assert_eq!(Rule::default_of(Kind::ContextWindow).param("percent"), 80.0);
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(DEFS[i].kind, kind);
        }
    }

    #[test]
    fn parameters_are_checked_by_name_and_range() {
        let mut rule = Rule::default_of(Kind::FailureRate);
        let ok = json!({"percent": 30, "calls": 10});
        rule.apply(ok.as_object().unwrap()).unwrap();
        assert_eq!(rule.param("percent"), 30.0);
        let unknown = json!({"minutes": 3});
        let err = rule.apply(unknown.as_object().unwrap()).unwrap_err();
        assert!(
            err.to_string().contains("unknown parameter minutes"),
            "{err}"
        );
        let range = json!({"percent": 300});
        assert!(rule.apply(range.as_object().unwrap()).is_err());
        let text = json!({"calls": "ten"});
        assert!(rule.apply(text.as_object().unwrap()).is_err());
        assert!(Kind::parse("weather").is_err());
    }
}
