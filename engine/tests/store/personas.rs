//! Personas in the store: one active per agent (the partial unique index holds even against a
//! direct write), the agent read with its active persona joined, a persona of the agent's
//! deletion gone with it, a deleted persona's runs keeping its name.

use engine::Error;
use engine::actions::{Caller, personas};
use engine::auth::Principal;
use engine::store::sessions::ClientInfo;
use engine::store::{agents, personas as stored};
use engine::store_test;
use wire::personas::{NewPersona, PersonaPatch};

fn new(name: &str, temperature: Option<f64>, activate: bool) -> NewPersona {
    NewPersona {
        name: name.into(),
        description: String::new(),
        prompt: format!("Speak as {name}."),
        temperature,
        activate,
    }
}

store_test!(one_persona_is_active_and_joins_its_agent, |store| {
    let admin: Principal = crate::runner::setup(&store, "").await;
    let client = ClientInfo::default();
    let caller = Caller::new(&admin, &client);
    let ws = admin.workspace_id.clone();
    let agent = agents::list(store.pool(), &ws).await.unwrap()[0].clone();

    let strict = personas::create(&store, caller, &agent.id, &new("Strict", Some(0.1), true))
        .await
        .unwrap();
    let mentor = personas::create(&store, caller, &agent.id, &new("Mentor", None, false))
        .await
        .unwrap();
    let read = agents::get(store.pool(), &ws, &agent.id).await.unwrap();
    assert_eq!(read.persona(), Some(("Strict", "Speak as Strict.")));
    assert!((read.effective_temperature() - 0.1).abs() < 1e-9);

    // The database itself refuses a second active persona.
    let twice = sqlx::query("UPDATE agent_personas SET is_active = 1 WHERE id = $1")
        .bind(&mentor.id)
        .execute(store.pool())
        .await;
    assert!(twice.is_err(), "two active personas");

    // Activating another moves the flag; its temperature (none) leaves the agent's.
    personas::activate(&store, caller, &mentor.id, true)
        .await
        .unwrap();
    let read = agents::get(store.pool(), &ws, &agent.id).await.unwrap();
    assert_eq!(read.persona_name.as_deref(), Some("Mentor"));
    assert!((read.effective_temperature() - agent.temperature).abs() < 1e-9);
    let mut conn = store.pool().acquire().await.unwrap();
    let listed = stored::list(&mut conn, &ws, &agent.id).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|p| (p.name.as_str(), p.is_active))
            .collect::<Vec<_>>(),
        [("Mentor", true), ("Strict", false)]
    );
    drop(conn);

    // Names are unique per agent; a viewer changes nothing.
    let clash = personas::update(
        &store,
        caller,
        &strict.id,
        &PersonaPatch {
            name: Some("Mentor".into()),
            ..PersonaPatch::default()
        },
    )
    .await;
    assert!(matches!(clash, Err(Error::Conflict(_))), "{clash:?}");
    let viewer = Principal {
        role: engine::domain::MemberRole::Viewer,
        ..admin.clone()
    };
    let as_viewer = Caller::new(&viewer, &client);
    assert!(matches!(
        personas::delete(&store, as_viewer, &strict.id).await,
        Err(Error::Forbidden(_))
    ));

    // Deactivated: the agent speaks with its own prompt; deleting the agent takes its personas.
    personas::activate(&store, caller, &mentor.id, false)
        .await
        .unwrap();
    let read = agents::get(store.pool(), &ws, &agent.id).await.unwrap();
    assert_eq!(read.persona(), None);
    let mut conn = store.pool().acquire().await.unwrap();
    agents::delete(&mut conn, &ws, &agent.id).await.unwrap();
    assert!(matches!(
        stored::get(&mut *conn, &ws, &strict.id).await,
        Err(Error::NotFound { .. })
    ));
});
