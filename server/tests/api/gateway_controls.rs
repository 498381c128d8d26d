//! The gateway driven by a real OpenAI client library (`async-openai`): answers, streams and
//! tool calls come back as the SDK expects them, and each call's usage is recorded to the
//! token. Then what the gateway controls: attribution headers, credits per request (taken
//! first, given back when no provider answered, refused when short) and hard budgets (each
//! attempt's worst case held, settled to the real cost, the next call refused once the budget
//! has no room).

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestUserMessageArgs, ChatCompletionTool,
    ChatCompletionTools, CreateChatCompletionRequestArgs, FunctionObjectArgs,
};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::gateway::{Seen, fake_upstream, provider, put_route};
use crate::helpers::get_json;
use crate::tasks::setup;

/// A request (as its JSON body says) answered by the route `team`.
fn hello() -> Value {
    json!({ "model": "team", "messages": [{ "role": "user", "content": "Say hello" }], "max_tokens": 10 })
}

async fn balance(app: &crate::helpers::TestApp) -> i64 {
    let (credits,): (i64,) =
        sqlx::query_as("SELECT credits FROM users WHERE email = 'dev@example.com'")
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    credits
}

/// Waits until `n` gateway calls are recorded (each is recorded once its answer ended).
async fn recorded(app: &crate::helpers::TestApp, n: i64) {
    for _ in 0..250 {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM llm_calls WHERE source = 'gateway'")
                .fetch_one(app.store().pool())
                .await
                .unwrap();
        if count >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("fewer than {n} gateway calls recorded");
}

app_test!(
    the_gateway_serves_a_real_openai_client_and_enforces_its_controls,
    |app| {
        let key = setup(&app, false).await;
        let seen: Seen = Seen::default();
        let base = fake_upstream(seen.clone()).await;
        let ok = provider(&app, &key, "ok", &format!("{base}/ok")).await;
        // Nothing listens on port 9: a provider that cannot be reached.
        let gone = provider(&app, &key, "gone", "http://127.0.0.1:9").await;
        let res = app
            .client
            .put(app.url("/api/v1/prices"))
            .bearer_auth(&key)
            .json(
                &json!({ "provider_kind": "openai_compatible", "model": "up-mini",
            "input_per_mtok_micros": 1_000_000, "output_per_mtok_micros": 4_000_000,
            "cached_input_per_mtok_micros": 500_000, "context_window": 128_000 }),
            )
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        for (model, target) in [("team", &ok), ("nowhere", &gone)] {
            let (status, body) = put_route(
            &app,
            &key,
            json!({ "model": model, "targets": [{ "provider_id": target, "model": "up-mini" }] }),
        )
        .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let direct = format!("http://{}", app.server.as_ref().unwrap().addr);

        // The SDK, pointed at Fleetdeck by its base URL alone.
        let client = Client::with_config(
            OpenAIConfig::new()
                .with_api_base(format!("{direct}/v1"))
                .with_api_key(&key),
        );
        let ask = |stream: bool, tools: bool| {
            let mut request = CreateChatCompletionRequestArgs::default();
            request
                .model("team")
                .messages([ChatCompletionRequestUserMessageArgs::default()
                    .content("What is the weather in Paris?")
                    .build()
                    .unwrap()
                    .into()]);
            if tools {
                request.tools(vec![ChatCompletionTools::Function(ChatCompletionTool {
                function: FunctionObjectArgs::default()
                    .name("get_weather")
                    .parameters(json!({ "type": "object", "properties": { "city": { "type": "string" } } }))
                    .build()
                    .unwrap(),
            })]);
            }
            if stream {
                request.stream(true);
            }
            request.build().unwrap()
        };
        let answer = client.chat().create(ask(false, false)).await.unwrap();
        assert_eq!(answer.choices[0].message.content.as_deref(), Some("Hello"));
        let usage = answer.usage.expect("usage");
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (120, 30));
        assert_eq!(
            usage.prompt_tokens_details.and_then(|d| d.cached_tokens),
            Some(100)
        );
        let answer = client.chat().create(ask(false, true)).await.unwrap();
        let Some(ChatCompletionMessageToolCalls::Function(call)) = answer.choices[0]
            .message
            .tool_calls
            .as_ref()
            .and_then(|c| c.first())
        else {
            panic!("a tool call: {answer:?}");
        };
        assert_eq!(call.function.name, "get_weather");
        assert_eq!(
            serde_json::from_str::<Value>(&call.function.arguments).unwrap(),
            json!({ "city": "Paris" })
        );
        assert!(
            seen.lock().unwrap().last().unwrap()["tools"].is_array(),
            "the tools went upstream"
        );
        let mut stream = client.chat().create_stream(ask(true, false)).await.unwrap();
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.usage.is_none(), "the injected usage chunk is hidden");
            for choice in chunk.choices {
                text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            }
        }
        assert_eq!(text, "Hello");
        // Each of the three recorded with the upstream's usage to the token: 20 fresh + 100
        // cached input, 30 output of which 12 reasoning; 20 + 50 + 120 micro-USD.
        recorded(&app, 3).await;
        let rows: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micros, \
         usage_estimated FROM llm_calls WHERE source = 'gateway'",
    )
    .fetch_all(app.store().pool())
    .await
    .unwrap();
        assert_eq!(rows, vec![(120, 30, 100, 12, 190, 0); 3]);

        // Attribution: a session and the caller's own task label are kept as sent.
        let send = |body: Value, headers: &[(&str, &str)]| {
            let mut req = app
                .client
                .post(format!("{direct}/v1/chat/completions"))
                .bearer_auth(&key)
                .json(&body);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            req.send()
        };
        let res = send(
            hello(),
            &[
                ("x-fleetdeck-session", "sess-42"),
                ("x-fleetdeck-task", "nightly-report"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        recorded(&app, 4).await;
        let calls: Value = get_json(&app.client, &app.url("/api/v1/calls?limit=10"), &key).await;
        let tagged = calls["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["session_id"] == "sess-42")
            .expect("the session is recorded");
        assert_eq!(tagged["external_task"], "nightly-report");
        assert_eq!(tagged["task_id"], Value::Null);

        // Credits per request: a workspace setting, checked.
        let put_setting = |value: Value| {
            app.client
                .put(app.url("/api/v1/settings/gateway_credits_per_call"))
                .bearer_auth(&key)
                .json(&json!({ "value": value }))
                .send()
        };
        let res = put_setting(json!(-1)).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = put_setting(json!(2)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let before = balance(&app).await;
        assert_eq!(send(hello(), &[]).await.unwrap().status(), StatusCode::OK);
        assert_eq!(balance(&app).await, before - 2, "two credits taken");
        let res = send(json!({ "model": "nowhere", "messages": [] }), &[])
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            balance(&app).await,
            before - 2,
            "given back: no provider answered"
        );
        sqlx::query("UPDATE users SET credits = 1 WHERE email = 'dev@example.com'")
            .execute(app.store().pool())
            .await
            .unwrap();
        let res = send(hello(), &[]).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYMENT_REQUIRED);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["type"], "insufficient_quota");
        assert_eq!(balance(&app).await, 1, "nothing taken from a short balance");
        let res = put_setting(json!(0)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        // A hard budget of 500 micro-USD: each call (max_tokens 10) holds its worst case, ~90
        // bytes of prompt and 10 tokens out, about 130; it settles to 190. Two fit; the third
        // would pass the budget and is refused without reaching the provider.
        let res = app
            .client
            .post(app.url("/api/v1/budgets"))
            .bearer_auth(&key)
            .json(
                &json!({ "name": "Gateway cap", "scope": "workspace", "period": "month",
            "amount_usd": 0.0005, "hard": true }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let budget: Value = res.json().await.unwrap();
        // The budget counts from now: what was spent before it is in its period too.
        let spent_before = budget["current"]["spent_micros"].as_i64().unwrap();
        if spent_before > 0 {
            // Calls before the budget existed count in its period: start from a clean slate.
            sqlx::query("UPDATE budget_periods SET spent_micros = 0, calls = 0")
                .execute(app.store().pool())
                .await
                .unwrap();
        }
        let upstream_before = seen.lock().unwrap().len();
        // (The fake upstream reports more tokens than a real one could for this request, so each
        // call's record is awaited: a hold below the real cost is what the test must not race.)
        recorded(&app, 6).await;
        for n in [7, 8] {
            assert_eq!(send(hello(), &[]).await.unwrap().status(), StatusCode::OK);
            recorded(&app, n).await;
        }
        let res = send(hello(), &[]).await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "budget_exceeded");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Gateway cap"),
            "{err}"
        );
        assert_eq!(
            seen.lock().unwrap().len(),
            upstream_before + 2,
            "the refused call never went upstream"
        );
        let budgets: Value = get_json(&app.client, &app.url("/api/v1/budgets"), &key).await;
        let current = &budgets["items"][0]["current"];
        assert_eq!(
            (
                current["spent_micros"].as_i64(),
                current["calls"].as_i64(),
                current["reserved_micros"].as_i64()
            ),
            (Some(380), Some(2), Some(0)),
            "settled to the real cost, nothing left held: {budgets}"
        );
    }
);
