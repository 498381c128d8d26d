//! The agent studio in the engine, on both databases: a prompt edit makes version 2 and its
//! runs count towards it (a trigger), a roll back activates version 1 again; a playground run
//! with its own prompt counts towards no version; an agent exported, imported and made from a
//! template comes back with its fields. (Schemas: `schemas.rs`'s tests and the API's.)

use std::time::Duration;

use engine::actions::{Caller, agent_files, agents as agent_actions, templates};
use engine::runner::playground;
use engine::store::sessions::ClientInfo;
use engine::store::{agents, prompt_versions, tasks};
use engine::{Store, store_test};
use wire::agents::{AgentInput, SaveTemplate};
use wire::runs::{RunOverrides, StartRun};

async fn finished(store: &Store, ws: &str, id: &str) -> tasks::Task {
    for _ in 0..800 {
        let task = tasks::get(store.pool(), ws, id).await.unwrap();
        if task.is_finished() {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run {id} did not finish");
}

store_test!(
    versions_count_their_runs_and_agents_travel_as_files,
    |store| {
        let who = crate::runner::setup(&store, "token_delay_ms=0").await;
        let client = ClientInfo::default();
        let caller = Caller::new(&who, &client);
        let ws = who.workspace_id.clone();
        let reviewer = agents::list(store.pool(), &ws)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.role == "REVIEWER")
            .unwrap();
        let original = agents::get(store.pool(), &ws, &reviewer.id).await.unwrap();

        // An edit of the prompt is version 2, active, with its note.
        let edited = agent_actions::update(
            &store,
            caller,
            &reviewer.id,
            AgentInput {
                system_prompt: Some(format!(
                    "{}\nBlocking issues first.",
                    original.system_prompt
                )),
                version_note: Some("Blocking first".into()),
                ..AgentInput::default()
            },
        )
        .await
        .unwrap();
        assert!(edited.system_prompt.ends_with("Blocking issues first."));
        let mut conn = store.pool().acquire().await.unwrap();
        let versions = prompt_versions::list(&mut conn, &ws, &reviewer.id)
            .await
            .unwrap();
        assert_eq!(
            versions
                .iter()
                .map(|v| (v.version, v.is_active, v.note.as_str()))
                .collect::<Vec<_>>(),
            [(2, true, "Blocking first"), (1, false, "Initial version")]
        );
        let diff = prompt_versions::diff(&mut conn, &ws, &reviewer.id, 1, 2)
            .await
            .unwrap();
        assert_eq!((diff.added, diff.removed), (1, 0));
        drop(conn);

        // Two runs: one as the agent is (version 2), one with its own prompt (no version).
        let runner = crate::runner::runner(&store, |_| {});
        let workers = runner.start();
        let mut ids = Vec::new();
        for overrides in [
            RunOverrides::default(),
            RunOverrides {
                system_prompt: Some("Say only LGTM.".into()),
                ..RunOverrides::default()
            },
        ] {
            let req = StartRun {
                agent_id: reviewer.id.clone(),
                input: "Review the login handler".into(),
                overrides,
            };
            ids.push(runner.start_run(caller, &req).await.unwrap().id);
        }
        for id in &ids {
            assert_eq!(finished(&store, &ws, id).await.status, "completed");
        }
        runner.shutdown();
        for w in workers {
            let _ = w.await;
        }
        let v2 = prompt_versions::get(store.pool(), &ws, &reviewer.id, 2)
            .await
            .unwrap();
        assert_eq!((v2.stats.runs, v2.stats.failed_runs), (1, 0), "{v2:?}");
        assert!(v2.stats.prompt_tokens > 0);
        let history = playground::history(&store, &ws, &reviewer.id)
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        assert!(history.iter().all(|r| r.simulated() && r.finished()));

        // Rolled back: version 1's text is the agent's again.
        let back = agent_actions::activate_version(&store, caller, &reviewer.id, 1)
            .await
            .unwrap();
        assert_eq!(back.system_prompt, original.system_prompt);

        // Exported and imported as a copy; saved as a template and made again.
        let file = agent_files::export(&store, &who, &reviewer.id)
            .await
            .unwrap();
        let copy = agent_files::import(&store, caller, file).await.unwrap();
        assert_eq!(copy.agent.name, format!("{} (copy)", reviewer.name));
        assert_eq!(copy.agent.system_prompt, original.system_prompt);
        assert_eq!(copy.agent.model, reviewer.model);
        let saved = templates::save(
            &store,
            caller,
            &SaveTemplate {
                agent_id: reviewer.id.clone(),
                name: "Careful reviewer".into(),
                category: "review".into(),
            },
        )
        .await
        .unwrap();
        let made = templates::make_agent(&store, caller, &saved.id)
            .await
            .unwrap();
        assert_ne!(made.agent.id, copy.agent.id);
        assert_eq!(made.agent.role, "REVIEWER");
        assert_eq!(templates::list(&store, &who).await.unwrap().len(), 1);
    }
);
