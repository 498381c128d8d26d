//! Provider clients against local fake servers that speak each wire format: SSE streams, usage,
//! tool calls, 429 with Retry-After, 500, 401, slow answers, cut streams and malformed JSON.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use engine::domain::ProviderKind;
use engine::providers::retry::{self, Attempt, RetryPolicy, Target};
use engine::providers::simulator::Simulator;
use engine::providers::{
    ChatRequest, ErrorClass, HttpConfig, Message, Provider, ToolSpec, client_for,
};
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Clone)]
enum Reply {
    Sse(&'static str),
    Status(u16, Option<&'static str>, &'static str),
    Slow(Duration),
    /// Sends the first part, then resets the connection.
    Reset(&'static str),
}

#[derive(Clone, Default)]
struct Fake {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<(String, HeaderMap, Value)>>>,
}

async fn fake(replies: Vec<Reply>) -> (String, Fake) {
    let state = Fake {
        replies: Arc::new(Mutex::new(replies.into())),
        ..Fake::default()
    };
    let handler_state = state.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
            let state = handler_state.clone();
            async move {
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                state
                    .requests
                    .lock()
                    .unwrap()
                    .push((uri.to_string(), headers, json));
                let reply = state.replies.lock().unwrap().pop_front();
                match reply {
                    Some(Reply::Sse(body)) => Response::builder()
                        .header("content-type", "text/event-stream")
                        .body(Body::from(body))
                        .unwrap(),
                    Some(Reply::Status(code, retry_after, body)) => {
                        let mut r = Response::builder().status(StatusCode::from_u16(code).unwrap());
                        if let Some(after) = retry_after {
                            r = r.header("retry-after", after);
                        }
                        r.body(Body::from(body)).unwrap()
                    }
                    Some(Reply::Slow(d)) => {
                        tokio::time::sleep(d).await;
                        Response::new(Body::from("late"))
                    }
                    Some(Reply::Reset(first)) => {
                        // The first part goes out with the headers; the reset comes later,
                        // mid-answer, as a dropped connection does.
                        let stream = futures_util::stream::unfold(0u8, move |step| async move {
                            match step {
                                0 => Some((Ok(axum::body::Bytes::from(first)), 1)),
                                1 => {
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                    Some((Err(std::io::Error::other("connection reset")), 2))
                                }
                                _ => None,
                            }
                        });
                        Response::builder()
                            .header("content-type", "text/event-stream")
                            .body(Body::from_stream(stream))
                            .unwrap()
                    }
                    None => Response::builder()
                        .status(500)
                        .body(Body::from("no reply scripted"))
                        .unwrap(),
                }
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn client(kind: ProviderKind, base: &str) -> Arc<dyn Provider> {
    client_for(
        kind,
        Some(HttpConfig {
            base_url: base.to_owned(),
            api_key: Some("sk-test-key-1234".into()),
            client: engine::providers::http_client(),
        }),
    )
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        system: "You are the BUILDER.".into(),
        messages: vec![Message::user("## Task\nWrite hello\n")],
        temperature: 0.5,
        max_tokens: 256,
        tools: vec![ToolSpec {
            name: "write_file".into(),
            description: "write".into(),
            parameters: json!({"type": "object"}),
        }],
        response_schema: None,
    }
}

const OPENAI_STREAM: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"write_file\",\"arguments\":\"{\\\"path\\\":\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"a.rs\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":30,\"prompt_tokens_details\":{\"cached_tokens\":100},\"completion_tokens_details\":{\"reasoning_tokens\":12}}}\n\n\
data: [DONE]\n\n";

#[tokio::test]
async fn openai_streams_text_tool_calls_and_exact_usage() {
    let (base, state) = fake(vec![Reply::Sse(OPENAI_STREAM)]).await;
    let provider = client(ProviderKind::Openai, &base);
    let streamed = Mutex::new(Vec::new());
    let out = provider
        .complete(&request(), &|d: &str| {
            streamed.lock().unwrap().push(d.to_owned())
        })
        .await
        .unwrap();
    assert_eq!(out.text, "Hello");
    assert_eq!(*streamed.lock().unwrap(), ["Hel", "lo"]);
    assert_eq!(out.tool_calls[0].name, "write_file");
    assert_eq!(out.tool_calls[0].arguments, json!({"path": "a.rs"}));
    assert_eq!(
        (
            out.usage.prompt_tokens,
            out.usage.completion_tokens,
            out.usage.cached_tokens,
            out.usage.reasoning_tokens
        ),
        (120, 30, 100, 12)
    );
    assert!(!out.usage.estimated);
    let requests = state.requests.lock().unwrap();
    let (path, headers, body) = &requests[0];
    assert_eq!(path, "/chat/completions");
    assert_eq!(headers["authorization"], "Bearer sk-test-key-1234");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["tools"][0]["function"]["name"], "write_file");
}

#[tokio::test]
async fn json_mode_asks_openai_for_the_output_schema() {
    let (base, state) = fake(vec![Reply::Sse(OPENAI_STREAM)]).await;
    let schema = json!({"type": "object", "required": ["verdict"]});
    let mut req = request();
    req.response_schema = Some(schema.clone());
    client(ProviderKind::Openai, &base)
        .complete(&req, &|_| {})
        .await
        .unwrap();
    let format = state.requests.lock().unwrap()[0].2["response_format"].clone();
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["schema"], schema);
    // Without a schema, no response_format at all.
    let (base, state) = fake(vec![Reply::Sse(OPENAI_STREAM)]).await;
    client(ProviderKind::Openai, &base)
        .complete(&request(), &|_| {})
        .await
        .unwrap();
    assert!(
        state.requests.lock().unwrap()[0]
            .2
            .get("response_format")
            .is_none()
    );
}

#[tokio::test]
async fn openai_compatible_servers_without_usage_are_marked_estimated() {
    let (base, state) = fake(vec![Reply::Sse(
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi there\"}}]}\n\ndata: [DONE]\n\n",
    )])
    .await;
    let out = client(ProviderKind::OpenaiCompatible, &base)
        .complete(&request(), &|_| {})
        .await
        .unwrap();
    assert!(out.usage.estimated);
    assert!(out.usage.prompt_tokens > 0 && out.usage.completion_tokens > 0);
    // Compatible servers get max_tokens, OpenAI itself max_completion_tokens.
    assert_eq!(state.requests.lock().unwrap()[0].2["max_tokens"], 256);
}

#[tokio::test]
async fn broken_streams_fail_and_are_never_short_successes() {
    let (base, _) = fake(vec![
        Reply::Sse("data: {\"choices\":[{\"delta\":{\"content\":\"half an ans\"}}]}\n\n"),
        Reply::Reset("data: {\"choices\":[{\"delta\":{\"content\":\"half\"}}]}\n\n"),
        Reply::Sse("data: {not json\n\n"),
    ])
    .await;
    let provider = client(ProviderKind::Openai, &base);
    let cut = provider.complete(&request(), &|_| {}).await.unwrap_err();
    assert_eq!(cut.class, ErrorClass::StreamCut);
    let reset = provider.complete(&request(), &|_| {}).await.unwrap_err();
    assert_eq!(reset.class, ErrorClass::StreamCut, "{reset:?}");
    let malformed = provider.complete(&request(), &|_| {}).await.unwrap_err();
    assert_eq!(malformed.class, ErrorClass::Malformed);
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
    }
}

async fn run(
    targets: &[Target],
    policy: &RetryPolicy,
) -> (Result<usize, ErrorClass>, Vec<Attempt>) {
    let attempts = Mutex::new(Vec::new());
    let result = retry::complete(
        targets,
        &request(),
        policy,
        &|_| {},
        |_, _: &_| async { Ok(()) },
        |a: Attempt| {
            attempts.lock().unwrap().push(a.clone());
            async move { a }
        },
        std::future::pending(),
    )
    .await;
    (
        result.map(|(i, _)| i).map_err(|e| e.class),
        attempts.into_inner().unwrap(),
    )
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_honouring_retry_after() {
    let (base, _) = fake(vec![
        Reply::Status(429, Some("1"), "{\"error\":\"slow down\"}"),
        Reply::Status(503, None, "overloaded"),
        Reply::Sse(OPENAI_STREAM),
    ])
    .await;
    let target = Target {
        provider: client(ProviderKind::Openai, &base),
        model: "gpt-x".into(),
    };
    let (result, attempts) = run(&[target], &fast_policy()).await;
    assert_eq!(result, Ok(0));
    assert_eq!(attempts.len(), 3, "every attempt is reported");
    let first = attempts[0].result.as_ref().unwrap_err();
    assert_eq!(first.class, ErrorClass::RateLimited);
    assert_eq!(first.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(
        attempts[1].result.as_ref().unwrap_err().class,
        ErrorClass::ServerError
    );
    assert_eq!(
        attempts.iter().map(|a| a.number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[tokio::test]
async fn auth_errors_are_not_retried_but_fall_back_to_the_next_provider() {
    let (base, _) = fake(vec![Reply::Status(401, None, "{\"error\":\"bad key\"}")]).await;
    let chain = [
        Target {
            provider: client(ProviderKind::Openai, &base),
            model: "gpt-x".into(),
        },
        Target {
            provider: Arc::new(Simulator::default()),
            model: "sim-fast".into(),
        },
    ];
    let (result, attempts) = run(&chain, &fast_policy()).await;
    assert_eq!(result, Ok(1), "the fallback answered");
    assert_eq!(attempts.len(), 2);
    let first = attempts[0].result.as_ref().unwrap_err();
    assert_eq!(first.class, ErrorClass::Auth);
    assert!(!first.message.contains("sk-test-key"), "no key in errors");
}

#[tokio::test]
async fn slow_answers_time_out_and_bad_requests_stop() {
    let (base, _) = fake(vec![
        Reply::Slow(Duration::from_secs(5)),
        Reply::Status(400, None, "{\"error\":\"bad request\"}"),
    ])
    .await;
    let target = Target {
        provider: client(ProviderKind::Openai, &base),
        model: "gpt-x".into(),
    };
    let (result, attempts) = run(&[target], &fast_policy()).await;
    assert_eq!(result, Err(ErrorClass::BadRequest));
    assert_eq!(
        attempts[0].result.as_ref().unwrap_err().class,
        ErrorClass::Timeout
    );
    assert_eq!(attempts.len(), 2, "400 is not retried");
}

const ANTHROPIC_STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":50,\"cache_read_input_tokens\":40,\"output_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: ping\ndata: {\"type\":\"ping\"}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Writing \"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"it.\"}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"write_file\",\"input\":{}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"path\\\": \\\"b.rs\\\"}\"}}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":25}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

#[tokio::test]
async fn anthropic_streams_text_tool_use_and_cache_usage() {
    let (base, state) = fake(vec![
        Reply::Sse(ANTHROPIC_STREAM),
        Reply::Sse("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5}}}\n\n\
event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"),
    ])
    .await;
    let provider = client(ProviderKind::Anthropic, &base);
    let out = provider.complete(&request(), &|_| {}).await.unwrap();
    assert_eq!(out.text, "Writing it.");
    assert_eq!(out.tool_calls[0].id, "toolu_1");
    assert_eq!(out.tool_calls[0].arguments, json!({"path": "b.rs"}));
    assert_eq!(
        (
            out.usage.prompt_tokens,
            out.usage.cached_tokens,
            out.usage.completion_tokens
        ),
        (90, 40, 25)
    );
    let err = provider.complete(&request(), &|_| {}).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::ServerError);
    let requests = state.requests.lock().unwrap();
    let (path, headers, body) = &requests[0];
    assert_eq!(path, "/v1/messages");
    assert_eq!(headers["x-api-key"], "sk-test-key-1234");
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert_eq!(body["system"], "You are the BUILDER.");
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
}

const GEMINI_STREAM: &str = "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Done \"}]}}]}\n\n\
data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"now.\"},{\"functionCall\":{\"name\":\"write_file\",\"args\":{\"path\":\"c.rs\"}}}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":70,\"candidatesTokenCount\":20,\"cachedContentTokenCount\":10,\"thoughtsTokenCount\":5}}\n\n";

#[tokio::test]
async fn gemini_streams_parts_function_calls_and_usage_metadata() {
    let (base, state) = fake(vec![
        Reply::Sse(GEMINI_STREAM),
        Reply::Sse("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"cut\"}]}}]}\n\n"),
    ])
    .await;
    let provider = client(ProviderKind::Gemini, &base);
    let out = provider.complete(&request(), &|_| {}).await.unwrap();
    assert_eq!(out.text, "Done now.");
    assert_eq!(out.tool_calls[0].arguments, json!({"path": "c.rs"}));
    assert_eq!(
        (
            out.usage.prompt_tokens,
            out.usage.completion_tokens,
            out.usage.cached_tokens,
            out.usage.reasoning_tokens
        ),
        (70, 25, 10, 5)
    );
    let cut = provider.complete(&request(), &|_| {}).await.unwrap_err();
    assert_eq!(cut.class, ErrorClass::StreamCut);
    let requests = state.requests.lock().unwrap();
    let (path, headers, body) = &requests[0];
    assert_eq!(
        path,
        "/v1beta/models/test-model:streamGenerateContent?alt=sse"
    );
    assert_eq!(headers["x-goog-api-key"], "sk-test-key-1234");
    assert_eq!(
        body["systemInstruction"]["parts"][0]["text"],
        "You are the BUILDER."
    );
}
