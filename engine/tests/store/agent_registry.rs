//! The agent registry a page at a time (issue 15: 100,000 agents): keyset pages by name with
//! every filter in SQL, checked against the same filters applied in Rust to the whole list;
//! the tags to choose from (a loose index scan over `agent_tags`) kept true by the triggers on
//! create, update and delete. Both databases.

use engine::domain::Role;
use engine::seed::ensure_seeded;
use engine::store::agents::{self, AgentFilter, NewAgent};
use engine::store::page::PageRequest;
use engine::{Error, Store, store_test};
use wire::agents::AgentSummary;

fn agent(i: usize) -> NewAgent {
    let (role, tag) = match i % 3 {
        0 => (Role::Custom("SCOUT".into()), "Alpha"),
        1 => (Role::Custom("SCRIBE".into()), "beta"),
        _ => (Role::Custom("SCOUT".into()), "gamma_x"),
    };
    NewAgent {
        name: format!("agent {i:03}"),
        role,
        description: if i.is_multiple_of(5) {
            "Finds bugs 100% of the time".into()
        } else {
            "Writes notes".into()
        },
        provider_id: None,
        model: if i.is_multiple_of(2) {
            "gpt-4o".into()
        } else {
            "claude-sonnet".into()
        },
        temperature: 0.3,
        max_tokens: 2048,
        system_prompt: "Work.".into(),
        custom_instructions: String::new(),
        tags: vec![tag.into(), format!("batch{}", i / 50)],
        tools: Vec::new(),
        fallbacks: Vec::new(),
        provider_explicit: false,
        is_public: false,
        input_schema: None,
        output_schema: None,
    }
}

/// Every page of `filter`, `limit` at a time, in order.
async fn all_pages(store: &Store, ws: &str, filter: &AgentFilter, limit: i64) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let request = PageRequest::parse(Some(&limit.to_string()), cursor.as_deref()).unwrap();
        let page = agents::page(store.pool(), ws, filter, &request)
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        names.extend(page.items.into_iter().map(|a| a.name));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return names,
        }
    }
}

/// The filter's rules, applied in Rust to the whole list: the independent answer.
fn expected(all: &[AgentSummary], f: &AgentFilter) -> Vec<String> {
    let mut names: Vec<String> = all
        .iter()
        .filter(|a| {
            let words = f.q.to_lowercase();
            words.split_whitespace().all(|w| {
                a.name.to_lowercase().contains(w)
                    || a.description.to_lowercase().contains(w)
                    || a.model.to_lowercase().contains(w)
                    || a.tags.iter().any(|t| t.to_lowercase().contains(w))
            }) && (f.role.is_empty() || a.role.eq_ignore_ascii_case(&f.role))
                && (f.tag.is_empty() || a.tags.iter().any(|t| t.eq_ignore_ascii_case(&f.tag)))
                && match f.provider.as_str() {
                    "" => true,
                    "default" => a.provider_id.is_none(),
                    id => a.provider_id.as_deref() == Some(id),
                }
                && (f.status.is_empty() || a.status == f.status)
        })
        .map(|a| a.name.clone())
        .collect();
    names.sort();
    names
}

store_test!(
    the_registry_pages_by_name_with_its_filters_in_sql,
    |store| {
        let ws = ensure_seeded(&store).await.unwrap().workspace_id;
        let mut conn = store.pool().acquire().await.unwrap();
        for i in 0..120 {
            agents::create(&mut conn, &ws, &agent(i)).await.unwrap();
        }
        drop(conn);
        let all = agents::list(store.pool(), &ws).await.unwrap();
        assert_eq!(
            agents::count(store.pool(), &ws).await.unwrap(),
            all.len() as i64
        );
        let filters = [
            AgentFilter::default(),
            AgentFilter {
                q: "bugs 100%".into(),
                ..Default::default()
            },
            AgentFilter {
                q: "CLAUDE agent".into(),
                ..Default::default()
            },
            AgentFilter {
                q: "gamma_".into(),
                ..Default::default()
            },
            AgentFilter {
                q: "_".into(),
                ..Default::default()
            },
            AgentFilter {
                tag: "ALPHA".into(),
                ..Default::default()
            },
            AgentFilter {
                tag: "batch1".into(),
                role: "scribe".into(),
                ..Default::default()
            },
            AgentFilter {
                tag: "alph".into(),
                ..Default::default()
            },
            AgentFilter {
                provider: "default".into(),
                q: "notes".into(),
                ..Default::default()
            },
            AgentFilter {
                provider: "no-such-provider".into(),
                ..Default::default()
            },
            AgentFilter {
                status: "idle".into(),
                role: "SCOUT".into(),
                ..Default::default()
            },
            AgentFilter {
                status: "active".into(),
                ..Default::default()
            },
        ];
        for filter in &filters {
            let want = expected(&all, filter);
            assert_eq!(all_pages(&store, &ws, filter, 50).await, want, "{filter:?}");
            assert_eq!(
                all_pages(&store, &ws, filter, 7).await,
                want,
                "{filter:?} by 7"
            );
        }
        // The unfiltered registry: every agent once, by name, in three pages of 50.
        assert_eq!(
            all_pages(&store, &ws, &AgentFilter::default(), 50)
                .await
                .len(),
            all.len()
        );

        let bad = agents::page(
            store.pool(),
            &ws,
            &AgentFilter {
                status: "busy".into(),
                ..Default::default()
            },
            &PageRequest::parse(None, None).unwrap(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                bad,
                Error::Invalid {
                    field: "status",
                    ..
                }
            ),
            "{bad:?}"
        );
        let long = AgentFilter {
            q: "word ".repeat(9),
            ..Default::default()
        };
        let err = agents::page(
            store.pool(),
            &ws,
            &long,
            &PageRequest::parse(None, None).unwrap(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "q", .. }), "{err:?}");
    }
);

store_test!(the_tags_to_choose_from_follow_every_change, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let other = engine::store::workspaces::create(store.pool(), "Other", "other")
        .await
        .unwrap();
    let before = agents::tags(store.pool(), &ws).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(agents::create(&mut conn, &ws, &agent(i)).await.unwrap());
    }
    // Another workspace's tags are not offered.
    let mut elsewhere = agent(0);
    elsewhere.tags = vec!["secret".into()];
    agents::create(&mut conn, &other.id, &elsewhere)
        .await
        .unwrap();
    let tags =
        |store: Store, ws: String| async move { agents::tags(store.pool(), &ws).await.unwrap() };
    let mut want: Vec<String> = before.clone();
    want.extend(["Alpha", "batch0", "beta", "gamma_x"].map(String::from));
    want.sort_by_key(|t| t.to_lowercase());
    want.dedup();
    assert_eq!(tags(store.clone(), ws.clone()).await, want);

    // A changed agent's old tags go when no other agent has them; new ones come.
    let first = agents::get(store.pool(), &ws, &ids[1]).await.unwrap();
    let mut changed = agent(1);
    changed.tags = vec!["Delta".into(), "ALPHA".into()];
    agents::update(
        &mut conn,
        &ws,
        &ids[1],
        &first,
        &changed,
        Default::default(),
    )
    .await
    .unwrap();
    let listed = tags(store.clone(), ws.clone()).await;
    assert!(listed.contains(&"Delta".to_owned()) && listed.contains(&"beta".to_owned()));
    let filter = AgentFilter {
        tag: "alpha".into(),
        ..Default::default()
    };
    let alpha = all_pages(&store, &ws, &filter, 50).await;
    assert_eq!(alpha, ["agent 000", "agent 001", "agent 003"]);
    // Deleting the agents with "beta" removes it from the choices.
    for i in [1, 4] {
        agents::delete(&mut conn, &ws, &ids[i]).await.unwrap();
    }
    let listed = tags(store.clone(), ws.clone()).await;
    assert!(!listed.contains(&"beta".to_owned()), "{listed:?}");
    assert!(!listed.contains(&"Delta".to_owned()), "{listed:?}");
    assert!(!listed.contains(&"secret".to_owned()));
    assert_eq!(tags(store.clone(), other.id.clone()).await, ["secret"]);
});

store_test!(
    an_imported_name_is_checked_against_its_copies_only,
    |store| {
        let ws = ensure_seeded(&store).await.unwrap().workspace_id;
        let mut conn = store.pool().acquire().await.unwrap();
        for name in [
            "50%_off",
            "50%_OFF (copy)",
            "50%_off (copy 2)",
            "50X_off",
            "50%_off copy",
        ] {
            let mut a = agent(0);
            a.name = name.into();
            agents::create(&mut conn, &ws, &a).await.unwrap();
        }
        let mut taken = agents::names_like(store.pool(), &ws, "50%_off")
            .await
            .unwrap();
        taken.sort();
        // LIKE's own characters in the name match only themselves.
        assert_eq!(taken, ["50%_OFF (copy)", "50%_off", "50%_off (copy 2)"]);
    }
);
