//! The agent studio over HTTP. Prompt versions: a step records the version it ran and the
//! version carries its numbers; a prompt change with a note makes the next version; two
//! versions diff line by line; an older one is activated again (a roll back) by developers
//! only, audited. Agents as files: export, import (validated, naming the field), clone.

use engine::domain::MemberRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};
use crate::tasks::{agent_by_role, get, post, setup, wait_finished};

app_test!(prompt_versions_carry_runs_diff_and_roll_back, |app| {
    let key = setup(&app, false).await;
    let ws = default_ws(&app).await;
    let (_, viewer) = member_with_key(&app, &ws, "pv-viewer@example.com", MemberRole::Viewer).await;
    let builder = agent_by_role(&app, &key, "BUILDER").await;
    let base = format!("/api/v1/agents/{builder}/versions");
    let original = get(&app, &key, &format!("/api/v1/agents/{builder}")).await["system_prompt"]
        .as_str()
        .unwrap()
        .to_owned();

    // One step on version 1: its numbers land on it.
    let submit = json!({ "description": "Add input validation", "workflow": "custom", "steps": ["BUILDER"] });
    let (status, task) = post(&app, &key, "/api/v1/tasks", submit.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let v1 = get(&app, &key, &format!("{base}/1")).await;
    assert_eq!(v1["is_active"], true);
    assert_eq!(v1["stats"]["runs"], 1, "{v1}");
    assert_eq!(v1["stats"]["failed_runs"], 0);
    assert_eq!(
        v1["stats"]["cost_micros"], done["cost_micros"],
        "the version's cost is its step's"
    );
    assert!(v1["stats"]["prompt_tokens"].as_i64().unwrap() > 0);

    // A prompt change with a note: version 2, active, by this caller.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/agents/{builder}")))
        .bearer_auth(&key)
        .json(&json!({ "system_prompt": format!("{original}\nAlways add tests."), "version_note": "Ask for tests" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list = get(&app, &key, &base).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            items[0]["version"].as_i64(),
            items[0]["is_active"].as_bool()
        ),
        (Some(2), Some(true))
    );
    assert_eq!(items[0]["note"], "Ask for tests");
    assert_eq!(items[0]["created_by"], "dev@example.com");
    assert_eq!(items[0]["stats"]["runs"], 0, "nothing ran version 2 yet");
    assert_eq!(items[1]["is_active"], false);

    // The next step runs version 2 and counts there.
    let (_, task) = post(&app, &key, "/api/v1/tasks", submit).await;
    wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    let v2 = get(&app, &key, &format!("{base}/2")).await;
    assert_eq!(v2["stats"]["runs"], 1, "{v2}");
    assert_eq!(
        get(&app, &key, &format!("{base}/1")).await["stats"]["runs"],
        1
    );

    // The diff names the added line.
    let diff = get(&app, &key, &format!("{base}/diff?from=1&to=2")).await;
    assert_eq!(
        (diff["added"].as_i64(), diff["removed"].as_i64()),
        (Some(1), Some(0)),
        "{diff}"
    );
    let inserted: Vec<&Value> = diff["system_prompt"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["tag"] == "insert")
        .collect();
    assert_eq!(inserted[0]["text"], "Always add tests.");

    // Viewers cannot roll back; bad or unknown versions are 404s in the SPEC's format.
    let res = app
        .client
        .post(app.url(&format!("{base}/1/activate")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for bad in ["99", "x"] {
        let res = app
            .client
            .post(app.url(&format!("{base}/{bad}/activate")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "PROMPT_VERSION_NOT_FOUND", "{body}");
    }
    assert_eq!(
        get(&app, &key, &format!("{base}/2")).await["is_active"],
        true,
        "unchanged"
    );

    // Roll back to version 1: the agent's prompt is version 1's again, and it is audited.
    let res = app
        .client
        .post(app.url(&format!("{base}/1/activate")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let agent: Value = res.json().await.unwrap();
    assert_eq!(agent["system_prompt"], original.as_str());
    let list = get(&app, &key, &base).await;
    let active: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["is_active"] == true)
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(active, [1]);
    let audit = get(&app, &key, "/api/v1/audit?action=agent.prompt_activate").await;
    let details: Value =
        serde_json::from_str(audit["items"][0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(
        (details["version"].as_i64(), details["previous"].as_i64()),
        (Some(1), Some(2))
    );
});

app_test!(agents_export_import_and_clone, |app| {
    let key = setup(&app, false).await;
    let ws = default_ws(&app).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "files-viewer@example.com", MemberRole::Viewer).await;
    let planner = agent_by_role(&app, &key, "PLANNER").await;

    // Export: a versioned file that names its provider, as an attachment; viewers may read it.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/agents/{planner}/export")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        "attachment; filename=\"planner.fleetdeck-agent.json\""
    );
    let file: Value = res.json().await.unwrap();
    assert_eq!(
        (file["format"].as_str(), file["version"].as_i64()),
        (Some("fleetdeck.agent"), Some(1))
    );
    assert_eq!(file["agent"]["provider"]["kind"], "simulator", "{file}");
    assert!(
        file["agent"].get("id").is_none(),
        "no workspace ids in a file"
    );

    // Import: viewers are refused before the body is read; the copy is named and audited.
    let (status, _) = {
        let res = app
            .client
            .post(app.url("/api/v1/agents/import"))
            .bearer_auth(&viewer)
            .body("not json")
            .send()
            .await
            .unwrap();
        (res.status(), ())
    };
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, made) = post(&app, &key, "/api/v1/agents/import", file.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["agent"]["name"], "Planner (copy)");
    assert_eq!(
        made["agent"]["system_prompt"],
        file["agent"]["system_prompt"]
    );
    assert_eq!(made["agent"]["provider_kind"], "simulator");
    assert_eq!(made["notes"][0], "the name \"Planner\" was taken");

    // A provider that is not here: the workspace default, said so.
    let mut elsewhere = file.clone();
    elsewhere["agent"]["name"] = json!("From elsewhere");
    elsewhere["agent"]["provider"] = json!({ "name": "Prod", "kind": "anthropic" });
    let (status, made) = post(&app, &key, "/api/v1/agents/import", elsewhere).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["agent"]["provider_id"], Value::Null);
    assert!(
        made["notes"][0]
            .as_str()
            .unwrap()
            .contains("no anthropic provider"),
        "{made}"
    );

    // Bad files: 422 naming the field, nothing made.
    let before = get(&app, &key, "/api/v1/agents").await["items"]
        .as_array()
        .unwrap()
        .len();
    let mut wrong_version = file.clone();
    wrong_version["version"] = json!(2);
    let mut bad_temperature = file.clone();
    bad_temperature["agent"]["temperature"] = json!(9);
    let mut unknown = file.clone();
    unknown["agent"]["colour"] = json!("red");
    for (bad, names) in [
        (wrong_version, "version"),
        (bad_temperature, "temperature"),
        (unknown, "colour"),
    ] {
        let (status, body) = post(&app, &key, "/api/v1/agents/import", bad).await;
        assert!(status.is_client_error(), "{names}: {status}");
        assert!(body.to_string().contains(names), "{names}: {body}");
    }
    assert_eq!(
        get(&app, &key, "/api/v1/agents").await["items"]
            .as_array()
            .unwrap()
            .len(),
        before
    );

    // Clone: "(copy 2)" now, its first version noted, audited with its source.
    let (status, made) = post(
        &app,
        &key,
        &format!("/api/v1/agents/{planner}/clone"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["agent"]["name"], "Planner (copy 2)");
    let copy = made["agent"]["id"].as_str().unwrap();
    let versions = get(&app, &key, &format!("/api/v1/agents/{copy}/versions")).await;
    assert_eq!(versions["items"][0]["note"], "Cloned from Planner");
    let audit = get(&app, &key, "/api/v1/audit?action=agent.clone").await;
    let details: Value =
        serde_json::from_str(audit["items"][0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["source"], planner.as_str());
});

app_test!(
    the_registry_filters_by_words_role_tag_provider_and_status,
    |app| {
        let key = setup(&app, false).await;
        let agents = get(&app, &key, "/api/v1/agents").await;
        let id_of = |role: &str| {
            agents["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["role"] == role)
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (tester, reviewer) = (id_of("TESTER"), id_of("REVIEWER"));
        for (id, body) in [
            (
                &tester,
                json!({ "tags": ["qa", "nightly"], "is_public": true }),
            ),
            (&reviewer, json!({ "tags": ["QA"], "provider_id": "" })),
        ] {
            let res = app
                .client
                .patch(app.url(&format!("/api/v1/agents/{id}")))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
        let names = |v: Value| -> Vec<String> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let listed = get(&app, &key, "/api/v1/agents?tag=qa").await;
        assert_eq!(
            names(listed.clone()),
            ["Reviewer", "Tester"],
            "tags match whatever their case (pages are by name)"
        );
        assert_eq!(listed["items"][1]["tags"], json!(["qa", "nightly"]));
        assert_eq!(listed["items"][1]["is_public"], true);
        assert_eq!(listed["items"][0]["is_public"], false);
        assert_eq!(
            names(get(&app, &key, "/api/v1/agents?q=NIGHTLY").await),
            ["Tester"]
        );
        assert_eq!(
            names(get(&app, &key, "/api/v1/agents?q=verdict").await),
            ["Reviewer"],
            "words in the description"
        );
        assert_eq!(
            names(get(&app, &key, "/api/v1/agents?role=BUILDER").await),
            ["Builder"]
        );
        assert_eq!(
            names(get(&app, &key, "/api/v1/agents?provider=default").await),
            ["Reviewer"]
        );
        assert_eq!(
            get(&app, &key, "/api/v1/agents?status=idle").await["items"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert!(names(get(&app, &key, "/api/v1/agents?status=active").await).is_empty());
        let res = app
            .client
            .get(app.url("/api/v1/agents?status=busy"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = app
            .client
            .get(app.url("/api/v1/agents?colour=red"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error());
    }
);
