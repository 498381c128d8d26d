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

/// A small instance of `schema`: what the simulator answers in JSON mode, so an agent with an
/// output schema runs offline. It follows `const`, `enum`, `default`, the first branch of
/// `anyOf`/`oneOf`, every branch of `allOf`, the type, every listed property, `minimum`,
/// `minLength` and `minItems`; a schema it cannot satisfy (a pattern, a format, a `not`) gives
/// an answer the output check then refuses, as a real model's wrong answer would be.
pub fn example(schema: &Value) -> Value {
    example_at(schema, 0)
}

fn example_at(schema: &Value, depth: usize) -> Value {
    let Some(s) = schema.as_object() else {
        return Value::Null;
    };
    if depth > 8 {
        return Value::Null;
    }
    if let Some(v) = s.get("const").or_else(|| s.get("default")) {
        return v.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|b| b.first()) {
            return example_at(first, depth + 1);
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        let mut merged = serde_json::Map::new();
        for branch in all {
            if let Value::Object(o) = example_at(branch, depth + 1) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types.first().and_then(Value::as_str).unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ if s.contains_key("items") => "array",
        _ => "string",
    };
    let minimum = s.get("minimum").and_then(Value::as_f64).unwrap_or(0.0);
    match ty {
        "object" => {
            let props = s.get("properties").and_then(Value::as_object);
            Value::Object(
                props
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), example_at(v, depth + 1)))
                    .collect(),
            )
        }
        "array" => {
            let n = s
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let item = s
                .get("items")
                .map_or(Value::Null, |i| example_at(i, depth + 1));
            Value::Array(vec![item; usize::try_from(n.min(16)).unwrap_or(1)])
        }
        "integer" => serde_json::json!(minimum.ceil() as i64),
        "number" => serde_json::json!(minimum),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => {
            let n = s.get("minLength").and_then(Value::as_u64).unwrap_or(0);
            let text = "simulated";
            let len = usize::try_from(n).unwrap_or(0).max(text.len());
            Value::String(text.chars().cycle().take(len).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_example_keeps_its_schema() {
        let schema: Value = serde_json::from_str(
            r#"{"type":"object","required":["verdict","score","issues","kind"],"properties":{
                "verdict":{"enum":["ship","block"]},
                "score":{"type":"integer","minimum":1},
                "issues":{"type":"array","minItems":2,"items":{"type":"object","properties":{"line":{"type":"integer"},"note":{"type":"string","minLength":12}}}},
                "kind":{"anyOf":[{"type":"string"},{"type":"null"}]},
                "strict":{"type":"boolean"}}}"#,
        )
        .unwrap();
        let instance = example(&schema);
        assert_eq!(
            violations(&schema.to_string(), &instance),
            None,
            "{instance}"
        );
        assert_eq!(instance["verdict"], "ship");
        assert_eq!(instance["issues"].as_array().unwrap().len(), 2);
    }

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
