use engine::seed::ensure_seeded;
use engine::store::{agents, prices, providers, settings};
use engine::store_test;

store_test!(first_start_seeds_once, |store| {
    let first = ensure_seeded(&store).await.unwrap();
    assert!(first.created_workspace);
    assert_eq!(first.prices_added as usize, prices::DEFAULT_PRICES.len());

    let second = ensure_seeded(&store).await.unwrap();
    assert!(!second.created_workspace);
    assert_eq!(second.workspace_id, first.workspace_id);
    assert_eq!(second.prices_added, 0);

    let ws = first.workspace_id;
    let list = agents::list(store.pool(), &ws).await.unwrap();
    let roles: Vec<_> = list.iter().map(|a| a.role.as_str()).collect();
    assert_eq!(
        roles,
        ["ANALYST", "PLANNER", "BUILDER", "TESTER", "REVIEWER"]
    );
    assert!(
        list.iter()
            .all(|a| a.provider_kind.as_deref() == Some("simulator"))
    );
    for agent in &list {
        assert_eq!(
            agents::prompt_version_count(store.pool(), &ws, &agent.id)
                .await
                .unwrap(),
            1
        );
    }

    let providers = providers::list(store.pool(), &ws).await.unwrap();
    assert_eq!(providers.len(), 1);
    let default_provider = settings::get(store.pool(), &ws, settings::DEFAULT_PROVIDER)
        .await
        .unwrap();
    assert_eq!(default_provider, Some(providers[0].id.clone().into()));
    let model = settings::get(store.pool(), &ws, settings::DEFAULT_MODEL)
        .await
        .unwrap();
    assert_eq!(model, Some("sim-standard".into()));

    let sim = prices::get(store.pool(), "simulator", "sim-standard")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sim.input_per_mtok_micros, 1_000_000);
    assert_eq!(
        prices::list(store.pool()).await.unwrap().len(),
        prices::DEFAULT_PRICES.len()
    );
});

store_test!(settings_round_trip_and_overwrite, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    settings::put(
        store.pool(),
        &ws,
        settings::DEFAULT_TEMPERATURE,
        &0.2.into(),
    )
    .await
    .unwrap();
    let value = settings::get(store.pool(), &ws, settings::DEFAULT_TEMPERATURE)
        .await
        .unwrap();
    assert_eq!(value, Some(0.2.into()));
    assert_eq!(
        settings::get(store.pool(), &ws, "missing").await.unwrap(),
        None
    );
});

store_test!(prices_can_be_edited_and_are_checked, |store| {
    ensure_seeded(&store).await.unwrap();
    let mut price = prices::get(store.pool(), "openai", "gpt-4o")
        .await
        .unwrap()
        .unwrap();
    price.input_per_mtok_micros = 2_000_000;
    prices::upsert(store.pool(), &price).await.unwrap();
    let read = prices::get(store.pool(), "openai", "gpt-4o")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.input_per_mtok_micros, 2_000_000);
    // A re-seed keeps the edited price.
    ensure_seeded(&store).await.unwrap();
    let read = prices::get(store.pool(), "openai", "gpt-4o")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.input_per_mtok_micros, 2_000_000);
    // New models can be added; bad values change nothing.
    let mut custom = price.clone();
    custom.provider_kind = "openai_compatible".into();
    custom.model = "llama-3.1-70b".into();
    prices::upsert(store.pool(), &custom).await.unwrap();
    let mut bad = price.clone();
    bad.output_per_mtok_micros = -1;
    assert!(prices::upsert(store.pool(), &bad).await.is_err());
    bad = price.clone();
    bad.provider_kind = "nope".into();
    assert!(prices::upsert(store.pool(), &bad).await.is_err());
    assert_eq!(
        prices::list(store.pool()).await.unwrap().len(),
        prices::DEFAULT_PRICES.len() + 1
    );
});
