//! `fleetdeck run --task` against a running instance, as a user runs it: the task is submitted
//! over REST, followed over SSE, each step's end printed with its tokens and cost, and the exit
//! code says whether it completed.

use engine::domain::MemberRole;
use serde_json::Value;

use crate::app_test;
use crate::helpers::{TestApp, default_ws, member_with_key};
use crate::tasks::{get, set_simulator, setup};

/// Runs `fleetdeck run` with `args` off the test's runtime thread: (exit code, stdout, stderr).
async fn run(app: &TestApp, key: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let (url, key) = (app.url(""), key.to_owned());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
            .env("FLEETDECK_API_KEY", key)
            .arg("run")
            .args(&args)
            .args(["--url", &url])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

app_test!(the_run_command_follows_a_task_to_its_end, |app| {
    let key = setup(&app, false).await;
    let (code, out, err) = run(
        &app,
        &key,
        &[
            "--task",
            "Add input validation",
            "--workflow",
            "custom",
            "--step",
            "BUILDER",
            "--step",
            "REVIEWER",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("queued: custom workflow"), "{out}");
    // Each step's end, in order, labelled as simulated, with its figures.
    let builder = out
        .find("✓ BUILDER (Builder, sim-standard [Simulated]):")
        .unwrap_or(usize::MAX);
    let reviewer = out
        .find("✓ REVIEWER (Reviewer, sim-standard [Simulated]):")
        .unwrap_or(0);
    assert!(builder < reviewer, "{out}");
    assert!(out.contains(" tokens, $"), "{out}");
    // The summary's figures are the task's as stored.
    let id = out.split_whitespace().nth(1).unwrap();
    let task: Value = get(&app, &key, &format!("/api/v1/tasks/{id}")).await;
    assert_eq!(task["status"], "completed");
    let tokens =
        task["prompt_tokens"].as_i64().unwrap() + task["completion_tokens"].as_i64().unwrap();
    assert!(out.contains("Task completed in "), "{out}");
    assert!(out.contains(&format!(": {tokens} tokens, ")), "{out}");

    // A failing task exits non-zero and says why.
    set_simulator(
        &app,
        &key,
        "sim://local?token_delay_ms=0&ttft_ms=0&failure_rate=1",
    )
    .await;
    let (code, out, _) = run(
        &app,
        &key,
        &["--task", "Fix the typo", "--workflow", "bug_fix"],
    )
    .await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Task failed after"), "{out}");

    // Refusals are one clear line and a non-zero exit: a viewer may not submit; no key at all.
    let ws = default_ws(&app).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "run-viewer@example.com", MemberRole::Viewer).await;
    let (code, _, err) = run(&app, &viewer, &["--task", "Fix the typo"]).await;
    assert_eq!(code, Some(1));
    assert!(err.contains("HTTP 403"), "{err}");
    let (code, _, err) = run(&app, "", &["--task", "Fix the typo"]).await;
    assert_eq!(code, Some(1));
    assert!(err.contains("FLEETDECK_API_KEY"), "{err}");
});

app_test!(the_run_command_streams_one_agents_answer, |app| {
    let key = setup(&app, false).await;
    let (code, out, err) = run(
        &app,
        &key,
        &[
            "--agent",
            "reviewer",
            "Review the login handler",
            "--model",
            "sim-fast",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{out}\n{err}");
    // The agent's words on stdout, as written, ending with its answer; its tool calls, what
    // answered and its figures on stderr.
    let runs: Value = get(&app, &key, "/api/v1/tasks?workflow=playground").await;
    let id = runs["items"][0]["id"].as_str().unwrap().to_owned();
    let stored: Value = get(&app, &key, &format!("/api/v1/runs/{id}")).await;
    assert!(
        out.trim_end()
            .ends_with(stored["output"].as_str().unwrap().trim()),
        "{out}"
    );
    assert!(err.contains("[tool "), "{err}");
    assert!(
        err.contains("— sim-fast (Simulator, Simulated) · "),
        "{err}"
    );
    assert!(
        err.contains(&format!("{} in / ", stored["prompt_tokens"])),
        "{err}"
    );

    let (code, _, err) = run(&app, &key, &["--agent", "Nobody", "hello"]).await;
    assert_eq!(code, Some(1));
    assert!(err.contains("no agent named \"Nobody\""), "{err}");
});
