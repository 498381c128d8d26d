//! The built-in simulator ("mock mode"): a fully offline provider for demos, first runs and load
//! tests. It is a product feature, labelled "Simulated" wherever its output is shown.
//!
//! For the same request and seed it answers the same way. Output is role-specific (the role is
//! read from the system prompt's "You are the ROLE"), streamed token by token with realistic
//! latency, with scripted tool calls (the BUILDER writes files, the TESTER lists and tests them,
//! the REVIEWER reads them) and usage counted by the simulator's own tokenizer.
//!
//! Options come from the provider's base URL, written as a query string, e.g.
//! `sim://local?failure_rate=0.2&seed=7&token_delay_ms=0`:
//! - `failure_rate` (0–1, default 0): share of calls that fail with a retryable error
//!   (rate limit with `Retry-After`, server error, or a stream cut mid-answer);
//! - `seed` (default 0): changes every answer and every injected failure;
//! - `token_delay_ms` (default by model: `sim-fast` 0, otherwise 6) and `ttft_ms`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    BoxFuture, ChatRequest, Completion, DeltaSink, ErrorClass, MessageRole, Provider,
    ProviderError, ToolCall, Usage, elapsed_ms, estimate_request_tokens,
};
use crate::domain::ProviderKind;

/// Simulator options (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Share of calls that fail (0–1).
    pub failure_rate: f64,
    /// Seed mixed into every answer.
    pub seed: u64,
    /// Delay per streamed token; None uses the model's default.
    pub token_delay: Option<Duration>,
    /// Time to first token; None uses the model's default.
    pub ttft: Option<Duration>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            failure_rate: 0.0,
            seed: 0,
            token_delay: None,
            ttft: None,
        }
    }
}

impl SimConfig {
    /// Parses options from a base URL's query string; unknown or bad values are ignored so that
    /// a typo never stops the offline mode from working.
    pub fn from_base_url(base_url: Option<&str>) -> Self {
        let mut config = SimConfig::default();
        let Some(query) = base_url.and_then(|u| u.split_once('?')).map(|(_, q)| q) else {
            return config;
        };
        for pair in query.split('&') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            match key {
                "failure_rate" => {
                    if let Ok(v) = value.parse::<f64>()
                        && (0.0..=1.0).contains(&v)
                    {
                        config.failure_rate = v;
                    }
                }
                "seed" => config.seed = value.parse().unwrap_or(0),
                "token_delay_ms" => {
                    config.token_delay = value.parse().ok().map(Duration::from_millis);
                }
                "ttft_ms" => config.ttft = value.parse().ok().map(Duration::from_millis),
                _ => {}
            }
        }
        config
    }
}

/// The simulator provider.
#[derive(Debug, Default)]
pub struct Simulator {
    config: SimConfig,
    /// Calls made so far: mixed into failure draws so that a retry of the same request can
    /// succeed, as it would against a real provider.
    calls: AtomicU64,
}

impl Simulator {
    /// A simulator with the given options.
    pub fn new(config: SimConfig) -> Self {
        Self {
            config,
            calls: AtomicU64::new(0),
        }
    }

    async fn run(
        &self,
        request: &ChatRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<Completion, ProviderError> {
        let start = Instant::now();
        let request_seed = seed_of(request, self.config.seed);
        let mut rng = StdRng::seed_from_u64(request_seed);
        let call_no = self.calls.fetch_add(1, Ordering::Relaxed);
        let mut fail_rng = StdRng::seed_from_u64(request_seed ^ call_no.wrapping_mul(0x9E37));
        let fast = request.model.contains("fast");
        let token_delay = self.config.token_delay.unwrap_or(if fast {
            Duration::ZERO
        } else {
            Duration::from_millis(6)
        });
        let ttft = self.config.ttft.unwrap_or(if fast {
            Duration::ZERO
        } else {
            Duration::from_millis(rng.random_range(150..450))
        });

        let failure = (self.config.failure_rate > 0.0
            && fail_rng.random_bool(self.config.failure_rate))
        .then(|| fail_rng.random_range(0..3u8));
        pause(ttft).await;
        match failure {
            Some(0) => {
                let mut err =
                    ProviderError::new(ErrorClass::RateLimited, "HTTP 429: simulated rate limit");
                err.retry_after = Some(Duration::from_millis(50));
                return Err(err);
            }
            Some(1) => {
                return Err(ProviderError::new(
                    ErrorClass::ServerError,
                    "HTTP 503: simulated overload",
                ));
            }
            _ => {}
        }

        let turn = Turn::of(request);
        let (mut text, tool_calls) = script(&turn, &mut rng);
        // JSON mode: the final answer is an instance of the schema, as a model would give.
        if let Some(schema) = &request.response_schema
            && tool_calls.is_empty()
        {
            text =
                serde_json::to_string_pretty(&crate::schemas::example(schema)).unwrap_or_default();
        }
        let prompt_tokens = estimate_request_tokens(request);
        let mut out = Completion::default();
        let tool_tokens: i64 = tool_calls
            .iter()
            .map(|c| super::estimate_tokens(&c.arguments.to_string()))
            .sum();
        // Like a real provider, the answer stops at `max_tokens` (budgets rely on it).
        let room = usize::try_from((request.max_tokens - tool_tokens).max(0)).unwrap_or(0);
        let mut pieces = tokens(&text);
        pieces.truncate(room);
        let cut_at = (failure == Some(2)).then_some(pieces.len() / 2);
        for (i, piece) in pieces.iter().enumerate() {
            if Some(i) == cut_at {
                let mut err = ProviderError::new(
                    ErrorClass::StreamCut,
                    "simulated connection reset mid-stream",
                );
                err.partial_usage = Some(Usage {
                    prompt_tokens,
                    completion_tokens: i64::try_from(i).unwrap_or(0),
                    ..Usage::default()
                });
                return Err(err);
            }
            if out.ttft_ms.is_none() {
                out.ttft_ms = Some(elapsed_ms(start));
            }
            on_delta(piece);
            out.text.push_str(piece);
            pause(token_delay).await;
        }
        let completion_tokens = i64::try_from(pieces.len()).unwrap_or(0) + tool_tokens;
        // Later turns of one agent resend the same system prompt: a real provider serves that
        // prefix from its cache, so the simulator reports it as cached too.
        let cached_tokens = if turn.turn > 0 {
            super::estimate_tokens(&request.system).min(prompt_tokens)
        } else {
            0
        };
        out.tool_calls = tool_calls;
        out.usage = Usage {
            prompt_tokens,
            completion_tokens,
            cached_tokens,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
            estimated: false,
        };
        Ok(out)
    }
}

impl Provider for Simulator {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Simulator
    }

    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(self.run(request, on_delta))
    }
}

async fn pause(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

fn seed_of(request: &ChatRequest, seed: u64) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(request.model.as_bytes());
    hasher.update(request.system.as_bytes());
    for m in &request.messages {
        hasher.update(m.content.as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes) ^ seed
}

/// Splits text into streamable tokens: words with their following whitespace.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(&text[start..i]);
            start = i;
            in_space = false;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// What the simulator knows about the conversation it is answering.
struct Turn {
    role: String,
    task: String,
    /// How many assistant turns came before this one.
    turn: usize,
    /// Names of files listed by an earlier `list_files` result.
    listed: Vec<String>,
    has_tools: bool,
}

impl Turn {
    fn of(request: &ChatRequest) -> Self {
        let role = request
            .system
            .split_once("You are the ")
            .map(|(_, rest)| {
                rest.chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect::<String>()
            })
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "AGENT".to_owned());
        let first = request
            .messages
            .iter()
            .find(|m| m.role == MessageRole::User)
            .map(|m| m.content.as_str())
            .unwrap_or_default();
        let task = first
            .split_once("## Task\n")
            .map_or(first, |(_, rest)| rest)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let turn = request
            .messages
            .iter()
            .filter(|m| m.role == MessageRole::Assistant)
            .count();
        let listed = request
            .messages
            .iter()
            .filter(|m| m.role == MessageRole::Tool && m.tool_name.as_deref() == Some("list_files"))
            .flat_map(|m| m.content.lines().map(str::trim).map(str::to_owned))
            .filter(|l| !l.is_empty() && !l.ends_with('/'))
            .collect();
        // The script uses tools only when the ones its role calls are offered.
        let offers = |name: &str| request.tools.iter().any(|t| t.name == name);
        let has_tools = match role.as_str() {
            "BUILDER" => offers("write_file"),
            "TESTER" => offers("list_files") && offers("read_file"),
            "REVIEWER" => offers("read_file"),
            _ => !request.tools.is_empty(),
        };
        Self {
            role,
            task,
            turn,
            listed,
            has_tools,
        }
    }

    fn slug(&self) -> String {
        let words: Vec<String> = self
            .task
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() > 2)
            .take(3)
            .map(str::to_ascii_lowercase)
            .collect();
        if words.is_empty() {
            "feature".to_owned()
        } else {
            words.join("_")
        }
    }
}

fn pick<'a>(rng: &mut StdRng, options: &[&'a str]) -> &'a str {
    options[rng.random_range(0..options.len())]
}

/// The scripted answer for a turn: text and tool calls.
fn script(turn: &Turn, rng: &mut StdRng) -> (String, Vec<ToolCall>) {
    let task = if turn.task.is_empty() {
        "the requested change"
    } else {
        turn.task.as_str()
    };
    let slug = turn.slug();
    let module = format!("src/{slug}.rs");
    let test = format!("tests/{slug}_test.rs");
    let call = |id: &str, name: &str, arguments: serde_json::Value| ToolCall {
        id: format!("sim_{id}"),
        name: name.to_owned(),
        arguments,
    };
    match (turn.role.as_str(), turn.turn, turn.has_tools) {
        ("ANALYST", _, _) => (
            format!(
                "Goal: {task}.\n\nRequirements:\n1. {} behaviour is covered end to end.\n2. \
                 Inputs are validated and errors are reported clearly.\n3. Existing behaviour \
                 stays unchanged.\n\nRisks: {}.\n\nOpen questions: {}\n\nAcceptance criteria:\n- \
                 The new code path has unit tests for success and failure.\n- {}\n",
                pick(rng, &["The core", "The main", "The expected"]),
                pick(
                    rng,
                    &[
                        "edge cases around empty input",
                        "concurrent access to shared state",
                        "backwards compatibility of stored data"
                    ]
                ),
                pick(
                    rng,
                    &[
                        "none blocking; defaults are reasonable.",
                        "whether the limit should be configurable (assume yes, default 100).",
                    ]
                ),
                pick(
                    rng,
                    &[
                        "The reviewer approves with no high-severity findings.",
                        "Documentation describes the new behaviour."
                    ]
                ),
            ),
            Vec::new(),
        ),
        ("PLANNER", _, _) => (
            format!(
                "Plan for: {task}\n\n1. Add `{module}` with the core logic and its types.\n2. \
                 Wire it into the existing entry point; keep the change minimal.\n3. Add \
                 `{test}` covering {}.\n4. Run the test suite and fix what fails.\n5. Update \
                 the docs.\n\nDone when every step's check passes.",
                pick(
                    rng,
                    &["success and failure paths", "the acceptance criteria"]
                ),
            ),
            Vec::new(),
        ),
        ("BUILDER", 0, true) => (
            format!("I'll implement this in `{module}` and add a test file.\n"),
            vec![
                call(
                    "write_module",
                    "write_file",
                    json!({"path": module, "content": module_source(&slug, task, rng)}),
                ),
                call(
                    "write_test",
                    "write_file",
                    json!({"path": test, "content": test_source(&slug)}),
                ),
            ],
        ),
        ("BUILDER", _, _) => (
            format!(
                "Implemented {task}.\n\nFiles:\n- `{module}`: the `{slug}` function with input \
                 validation.\n- `{test}`: tests for the happy path and the empty-input error.\n\n\
                 The change is self-contained and {}.",
                pick(
                    rng,
                    &["needs no migration", "keeps the public API unchanged"]
                ),
            ),
            Vec::new(),
        ),
        ("TESTER", 0, true) => (
            "Let me look at what was built.\n".to_owned(),
            vec![call("list", "list_files", json!({"path": "."}))],
        ),
        ("TESTER", 1, true) if !turn.listed.is_empty() => {
            let target = turn
                .listed
                .iter()
                .find(|f| f.starts_with("src/"))
                .unwrap_or(&turn.listed[0])
                .clone();
            (
                format!("Reading `{target}` to check it against the criteria.\n"),
                vec![call("read", "read_file", json!({"path": target}))],
            )
        }
        ("TESTER", _, _) => (
            format!(
                "Test report for {task}:\n\n- happy path: passed\n- empty input rejected: \
                 passed\n- {}: passed\n\n{} tests, 0 failures. The acceptance criteria are met.",
                pick(rng, &["large input", "unicode input", "repeated calls"]),
                rng.random_range(3..9),
            ),
            Vec::new(),
        ),
        ("REVIEWER", 0, true) => (
            "Reviewing the implementation.\n".to_owned(),
            vec![call("read", "read_file", json!({"path": module}))],
        ),
        ("REVIEWER", _, _) => (
            format!(
                "Review of {task}:\n\n- Correctness: the logic matches the plan.\n- Security: \
                 input is validated before use.\n- Readability: {}.\n\nVerdict: approve.",
                pick(
                    rng,
                    &[
                        "clear names, small functions",
                        "good, one comment could explain the limit"
                    ]
                ),
            ),
            Vec::new(),
        ),
        _ => (
            format!(
                "Done: {task}. {}",
                pick(
                    rng,
                    &[
                        "I worked through it step by step and checked the result.",
                        "The result is summarised above."
                    ]
                )
            ),
            Vec::new(),
        ),
    }
}

fn module_source(slug: &str, task: &str, rng: &mut StdRng) -> String {
    let limit = rng.random_range(10..200);
    format!(
        "//! {task}\n\n/// Errors of [`{slug}`].\n#[derive(Debug, PartialEq)]\npub enum Error {{\n    \
         /// The input was empty.\n    Empty,\n}}\n\n/// Processes `input` (at most {limit} items).\n\
         pub fn {slug}(input: &[u32]) -> Result<u32, Error> {{\n    if input.is_empty() {{\n        \
         return Err(Error::Empty);\n    }}\n    Ok(input.iter().take({limit}).sum())\n}}\n"
    )
}

fn test_source(slug: &str) -> String {
    format!(
        "use crate::{slug}::{{{slug}, Error}};\n\n#[test]\nfn sums_input() {{\n    \
         assert_eq!({slug}(&[1, 2, 3]), Ok(6));\n}}\n\n#[test]\nfn rejects_empty_input() {{\n    \
         assert_eq!({slug}(&[]), Err(Error::Empty));\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Message;

    fn request(role: &str) -> ChatRequest {
        ChatRequest {
            model: "sim-fast".into(),
            system: format!("You are the {role}. Do things."),
            messages: vec![Message::user("## Task\nAdd rate limiting to the API\n")],
            temperature: 0.7,
            max_tokens: 1000,
            tools: vec![super::super::ToolSpec {
                name: "write_file".into(),
                description: String::new(),
                parameters: json!({}),
            }],
            response_schema: None,
        }
    }

    #[tokio::test]
    async fn same_request_same_answer_and_streamed_tokens_add_up() {
        let sim = Simulator::default();
        let req = request("ANALYST");
        let streamed = std::sync::Mutex::new(String::new());
        let sink = |d: &str| streamed.lock().unwrap().push_str(d);
        let a = sim.complete(&req, &sink).await.unwrap();
        let b = sim.complete(&req, &|_| {}).await.unwrap();
        assert_eq!(a.text, b.text);
        assert_eq!(*streamed.lock().unwrap(), a.text);
        assert!(a.text.contains("Add rate limiting to the API"));
        assert_eq!(a.usage.completion_tokens, tokens(&a.text).len() as i64);
        assert!(!a.usage.estimated);
    }

    #[tokio::test]
    async fn builder_writes_files_then_summarises() {
        let sim = Simulator::default();
        let req = request("BUILDER");
        let first = sim.complete(&req, &|_| {}).await.unwrap();
        assert_eq!(first.tool_calls.len(), 2);
        assert_eq!(first.tool_calls[0].name, "write_file");
        assert_eq!(
            first.tool_calls[0].arguments["path"],
            "src/add_rate_limiting.rs"
        );
    }

    #[tokio::test]
    async fn failure_rate_one_always_fails_retryably() {
        let sim = Simulator::new(SimConfig::from_base_url(Some(
            "sim://x?failure_rate=1&ttft_ms=0",
        )));
        for _ in 0..10 {
            let err = sim
                .complete(&request("PLANNER"), &|_| {})
                .await
                .unwrap_err();
            assert!(err.class.retryable(), "{err:?}");
        }
    }
}
