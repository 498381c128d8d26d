use engine::domain::Role;
use engine::seed::ensure_seeded;
use engine::store::agents::{self, NewAgent};
use engine::{Error, store_test};

fn agent(name: &str) -> NewAgent {
    NewAgent {
        name: name.into(),
        role: Role::Custom("SECURITY_AUDITOR".into()),
        description: "Looks for vulnerabilities".into(),
        provider_id: None,
        model: "gpt-4o".into(),
        temperature: 0.3,
        max_tokens: 2048,
        system_prompt: "Audit the code.".into(),
        custom_instructions: String::new(),
        tags: vec!["security".into()],
        tools: wire::agents::all_tools(),
        fallbacks: Vec::new(),
        provider_explicit: false,
        is_public: false,
        input_schema: None,
        output_schema: None,
    }
}

store_test!(creating_agents_validates_and_rejects_duplicates, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let mut conn = store.pool().acquire().await.unwrap();
    let id = agents::create(&mut conn, &ws, &agent("Auditor"))
        .await
        .unwrap();
    let listed = agents::list(store.pool(), &ws).await.unwrap();
    let created = listed.iter().find(|a| a.id == id).unwrap();
    assert_eq!(created.role, "SECURITY_AUDITOR");
    assert_eq!(created.provider_name, None);
    assert_eq!(created.status, "idle");
    // Custom roles sort after the built-in ones.
    assert_eq!(listed.last().unwrap().id, id);

    let dup = agents::create(&mut conn, &ws, &agent("Auditor"))
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::Conflict(_)), "{dup:?}");

    let mut bad = agent("Hot");
    bad.temperature = 3.5;
    let err = agents::create(&mut conn, &ws, &bad).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                field: "temperature",
                ..
            }
        ),
        "{err:?}"
    );
    let mut bad = agent("  ");
    bad.name = "  ".into();
    assert!(agents::create(&mut conn, &ws, &bad).await.is_err());
    assert_eq!(agents::list(store.pool(), &ws).await.unwrap().len(), 6);
});

store_test!(agents_are_scoped_to_their_workspace, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let other = engine::store::workspaces::create(store.pool(), "Other", "other")
        .await
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    // The same name is fine in another workspace.
    agents::create(&mut conn, &other.id, &agent("Builder"))
        .await
        .unwrap();
    assert_eq!(
        agents::list(store.pool(), &other.id).await.unwrap().len(),
        1
    );
    assert_eq!(agents::list(store.pool(), &ws).await.unwrap().len(), 5);
});
