//! Agents' input and output JSON Schemas (F-02), checked with the `jsonschema` crate: a schema
//! is checked against its meta-schema when it is saved; a task's input is checked before it is
//! accepted (422) and again before the step runs; a step's output is checked after it (the step
//! fails naming the JSON path and the rule it broke). Schemas never fetch remote `$ref`s.

use serde_json::Value;

use crate::{Error, Result};

/// How many broken rules a message names (the first ones, in document order).
const NAMED: usize = 3;

/// Checks that `schema` (the text of a JSON object) is a JSON Schema; 422 naming `field`.
pub fn check_schema(field: &'static str, text: &str) -> Result<()> {
    let schema: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid(field, format!("is not JSON: {e}")))?;
    if !schema.is_object() {
        return Err(Error::invalid(
            field,
            "must be a JSON object (a JSON Schema)",
        ));
    }
    jsonschema::meta::validate(&schema).map_err(|e| {
        Error::invalid(
            field,
            format!(
                "is not a valid JSON Schema: {}",
                located(&e.instance_path().to_string(), &e.to_string())
            ),
        )
    })?;
    jsonschema::validator_for(&schema)
        .map(|_| ())
        .map_err(|e| Error::invalid(field, format!("cannot be used: {e}")))
}

fn located(path: &str, message: &str) -> String {
    if path.is_empty() {
        format!("at the root: {message}")
    } else {
        format!("at {path}: {message}")
    }
}

/// Why `value` breaks `schema` (the rules, each with its JSON path), or `None` when it does
/// not. A schema that cannot be compiled (saved before a check existed) is said so.
pub fn violations(schema: &str, value: &Value) -> Option<String> {
    let schema: Value = match serde_json::from_str(schema) {
        Ok(s) => s,
        Err(e) => return Some(format!("the schema is not JSON: {e}")),
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => return Some(format!("the schema cannot be used: {e}")),
    };
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(NAMED)
        .map(|e| located(&e.instance_path().to_string(), &e.to_string()))
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// The JSON a model answered with: the whole text, or the body of its one fenced block
/// (```json … ```), as models often wrap it.
pub fn json_in(text: &str) -> std::result::Result<Value, String> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(body.trim()).map_err(|e| format!("it is not JSON ({e})"))
}

/// Checks a task's input against an agent's input schema: the input must be JSON that keeps
/// the schema's rules. The message names the agent.
pub fn check_input(agent: &str, schema: &str, input: &str) -> std::result::Result<(), String> {
    let value = json_in(input)
        .map_err(|e| format!("the input does not match {agent}'s input schema: {e}"))?;
    match violations(schema, &value) {
        None => Ok(()),
        Some(why) => Err(format!(
            "the input does not match {agent}'s input schema: {why}"
        )),
    }
}

/// Checks a step's output against its agent's output schema.
pub fn check_output(schema: &str, output: &str) -> std::result::Result<(), String> {
    let value =
        json_in(output).map_err(|e| format!("the output does not match the output schema: {e}"))?;
    match violations(schema, &value) {
        None => Ok(()),
        Some(why) => Err(format!(
            "the output does not match the output schema: {why}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERDICT: &str =
        r#"{"type":"object","required":["verdict"],"properties":{"verdict":{"type":"string"}}}"#;

    #[test]
    fn schemas_are_checked_against_the_meta_schema() {
        assert!(check_schema("output_schema", VERDICT).is_ok());
        let err = check_schema("output_schema", r#"{"type": 5}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("output_schema") && err.contains("/type"),
            "{err}"
        );
        assert!(check_schema("input_schema", "[1]").is_err());
        assert!(check_schema("input_schema", "{").is_err());
    }

    #[test]
    fn outputs_name_the_path_and_the_rule_they_break() {
        assert_eq!(
            check_output(VERDICT, "```json\n{\"verdict\": \"ship\"}\n```"),
            Ok(())
        );
        let err = check_output(VERDICT, r#"{"verdict": 5}"#).unwrap_err();
        assert!(
            err.contains("at /verdict") && err.contains("\"string\""),
            "{err}"
        );
        let err = check_output(VERDICT, "{}").unwrap_err();
        assert!(
            err.contains("at the root") && err.contains("verdict"),
            "{err}"
        );
        let err = check_output(VERDICT, "Looks good to me").unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
        assert!(
            check_input("Builder", VERDICT, "ship it")
                .unwrap_err()
                .contains("Builder's input schema")
        );
    }
}
