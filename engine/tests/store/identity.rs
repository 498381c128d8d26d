use engine::actions::{self, Caller};
use engine::auth::secrets::MasterKey;
use engine::domain::MemberRole;
use engine::seed::ensure_seeded;
use engine::store::audit::{self, NewEntry};
use engine::store::providers::{self, ProviderInput};
use engine::store::sessions::{self, ClientInfo};
use engine::store::{api_keys, credits, users};
use engine::{Error, Store, store_test};

async fn member(store: &Store, ws: &str, email: &str, role: MemberRole) -> users::Member {
    let mut conn = store.pool().acquire().await.unwrap();
    users::create(&mut conn, ws, email, Some("a long enough password"), role)
        .await
        .unwrap()
}

async fn login(store: &Store, email: &str) -> engine::auth::Principal {
    sessions::login(
        store,
        email,
        "a long enough password",
        &ClientInfo::default(),
    )
    .await
    .unwrap()
    .1
}

store_test!(users_sign_in_and_out, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    assert!(!users::admin_exists(store.pool()).await.unwrap());
    let admin = member(&store, &ws, "Admin@Example.com", MemberRole::Admin).await;
    assert_eq!(admin.email, "admin@example.com");
    assert_eq!(admin.credits, 100);
    assert!(users::admin_exists(store.pool()).await.unwrap());

    let mut conn = store.pool().acquire().await.unwrap();
    let dup = users::create(
        &mut conn,
        &ws,
        "admin@example.com",
        Some("another long pw"),
        MemberRole::Viewer,
    )
    .await
    .unwrap_err();
    assert!(matches!(dup, Error::Conflict(_)), "{dup:?}");
    let short = users::create(
        &mut conn,
        &ws,
        "x@example.com",
        Some("short"),
        MemberRole::Viewer,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        short,
        Error::Invalid {
            field: "password",
            ..
        }
    ));
    assert!(
        users::create(&mut conn, &ws, "not-an-email", None, MemberRole::Viewer)
            .await
            .is_err()
    );
    drop(conn);

    let (token, who) = sessions::login(
        &store,
        "ADMIN@example.com",
        "a long enough password",
        &ClientInfo::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (who.role, who.workspace_id.as_str()),
        (MemberRole::Admin, ws.as_str())
    );
    assert_eq!(sessions::resolve(&store, &token).await.unwrap(), Some(who));

    let wrong_pw = sessions::login(
        &store,
        "admin@example.com",
        "wrong password!",
        &ClientInfo::default(),
    )
    .await
    .unwrap_err();
    let unknown = sessions::login(
        &store,
        "nobody@example.com",
        "wrong password!",
        &ClientInfo::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        wrong_pw.to_string(),
        unknown.to_string(),
        "no account enumeration"
    );
    assert!(matches!(wrong_pw, Error::Unauthorized(_)));

    sessions::logout(&store, &token).await.unwrap();
    assert_eq!(sessions::resolve(&store, &token).await.unwrap(), None);
    assert_eq!(sessions::resolve(&store, "fds_forged").await.unwrap(), None);

    // Magic links work once.
    let link = sessions::create_magic_link(&store, "admin@example.com")
        .await
        .unwrap()
        .unwrap();
    let (_, via_link) = sessions::redeem_magic_link(&store, &link, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(via_link.email, "admin@example.com");
    assert!(
        sessions::redeem_magic_link(&store, &link, &ClientInfo::default())
            .await
            .is_err()
    );
    assert_eq!(
        sessions::create_magic_link(&store, "nobody@example.com")
            .await
            .unwrap(),
        None
    );
});

store_test!(api_keys_authenticate_until_revoked, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    member(&store, &ws, "admin@example.com", MemberRole::Admin).await;
    member(&store, &ws, "dev@example.com", MemberRole::Developer).await;
    let admin = login(&store, "admin@example.com").await;
    let dev = login(&store, "dev@example.com").await;

    let client = ClientInfo::default();
    let wire::access::CreatedKey { key, api_key: info } =
        actions::access::create_api_key(&store, Caller::new(&dev, &client), "ci bot")
            .await
            .unwrap();
    assert!(key.starts_with(&info.prefix));
    let who = api_keys::resolve(&store, &key).await.unwrap().unwrap();
    assert_eq!(
        (who.email.as_str(), who.role),
        ("dev@example.com", MemberRole::Developer)
    );
    assert_eq!(api_keys::resolve(&store, "fdk_nope").await.unwrap(), None);

    actions::access::create_api_key(&store, Caller::new(&admin, &client), "admin key")
        .await
        .unwrap();
    assert_eq!(
        api_keys::list(&store, &dev).await.unwrap().len(),
        1,
        "developers see their own"
    );
    assert_eq!(
        api_keys::list(&store, &admin).await.unwrap().len(),
        2,
        "admins see all"
    );
    let listed = api_keys::list(&store, &dev).await.unwrap();
    let first_use = listed[0].last_used_at.expect("the first use is recorded");
    // Authenticating again within the minute writes nothing: the time stays.
    api_keys::resolve(&store, &key).await.unwrap().unwrap();
    let again = api_keys::list(&store, &dev).await.unwrap()[0].last_used_at;
    assert_eq!(again, Some(first_use));
    // A minute later the next use is recorded.
    sqlx::query("UPDATE api_keys SET last_used_at = last_used_at - $1 WHERE id = $2")
        .bind(api_keys::LAST_USED_EVERY_MS)
        .bind(&info.id)
        .execute(store.writer())
        .await
        .unwrap();
    // (Past the few moments a resolved key is trusted without a read.)
    tokio::time::sleep(api_keys::KEY_CACHE_TTL).await;
    api_keys::resolve(&store, &key).await.unwrap().unwrap();
    let later = api_keys::list(&store, &dev).await.unwrap()[0]
        .last_used_at
        .unwrap();
    assert!(later >= first_use, "a use after a minute is recorded again");

    let revoke = || actions::access::revoke_api_key(&store, Caller::new(&dev, &client), &info.id);
    revoke().await.unwrap();
    assert_eq!(api_keys::resolve(&store, &key).await.unwrap(), None);
    assert!(revoke().await.is_err());
    // Each action wrote its audit entry with it; the refused one wrote none.
    let log = audit::list(
        &store,
        &ws,
        &audit::Filter {
            limit: 500,
            ..audit::Filter::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "api_key.create").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "api_key.revoke").count(),
        1,
        "{actions:?}"
    );
});

store_test!(concurrent_credit_deductions_never_overspend, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    member(&store, &ws, "admin@example.com", MemberRole::Admin).await;
    let user = member(&store, &ws, "dev@example.com", MemberRole::Developer).await;
    let admin = login(&store, "admin@example.com").await;
    let dev = login(&store, "dev@example.com").await;
    let client = ClientInfo::default();
    let top_up =
        |amount| actions::access::top_up(&store, Caller::new(&admin, &client), &user.id, amount);
    assert_eq!(top_up(50).await.unwrap(), 150);

    let mut tasks = Vec::new();
    for _ in 0..200 {
        let store = store.clone();
        let dev = dev.clone();
        tasks.push(tokio::spawn(async move {
            credits::deduct(&store, &dev, 1, "task submission").await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(balance) => {
                assert!(balance >= 0);
                ok += 1;
            }
            Err(Error::InsufficientCredits(_)) => refused += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!((ok, refused), (150, 50));
    assert_eq!(credits::balance(&store, &user.id).await.unwrap(), 0);
    let ledger = credits::ledger(&store, &ws, 1000, None).await.unwrap();
    assert_eq!(ledger.iter().filter(|e| e.delta == -1).count(), 150);
    assert_eq!(ledger.iter().filter(|e| e.reason == "top-up").count(), 1);
    assert!(top_up(0).await.is_err());
});

store_test!(audit_chain_detects_tampering, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    for i in 0..5 {
        audit::record(
            &store,
            &NewEntry {
                workspace_id: ws.clone(),
                actor: "admin@example.com".into(),
                action: "provider.create".into(),
                target: format!("provider:{i}"),
                details: serde_json::json!({ "n": i }),
                ..NewEntry::default()
            },
        )
        .await
        .unwrap();
    }
    let ok = audit::verify(&store, &ws).await.unwrap();
    assert_eq!((ok.entries, ok.first_broken_seq), (5, None));
    let filter = audit::Filter {
        limit: 2,
        ..Default::default()
    };
    let newest = audit::list(&store, &ws, &filter).await.unwrap();
    assert_eq!(newest.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 4]);
    let filter = audit::Filter {
        action: Some("nope".into()),
        limit: 10,
        ..Default::default()
    };
    assert!(audit::list(&store, &ws, &filter).await.unwrap().is_empty());

    sqlx::query(
        "UPDATE audit_log SET target = 'provider:evil' WHERE workspace_id = $1 AND seq = 3",
    )
    .bind(&ws)
    .execute(store.pool())
    .await
    .unwrap();
    assert_eq!(
        audit::verify(&store, &ws).await.unwrap().first_broken_seq,
        Some(3)
    );
});

store_test!(audit_chain_detects_a_removed_tail, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    for action in ["a", "b", "c"] {
        audit::record(
            &store,
            &NewEntry {
                workspace_id: ws.clone(),
                actor: "cli".into(),
                action: action.into(),
                target: "x".into(),
                ..NewEntry::default()
            },
        )
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM audit_log WHERE workspace_id = $1 AND seq = 3")
        .bind(&ws)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&store, &ws).await.unwrap().first_broken_seq,
        Some(3)
    );
});

store_test!(audit_chain_is_verified_across_batches, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let before = audit::verify(&store, &ws).await.unwrap().entries;
    for i in 0..7 {
        audit::record(
            &store,
            &NewEntry {
                workspace_id: ws.clone(),
                actor: "cli".into(),
                action: "batch.test".into(),
                target: format!("x:{i}"),
                ..NewEntry::default()
            },
        )
        .await
        .unwrap();
    }
    let total = before + 7;
    // Batches of 2 and 3: every batch edge falls somewhere in the entries.
    for batch in [2, 3, total] {
        let ok = audit::verify_in_batches(&store, &ws, batch).await.unwrap();
        assert_eq!(
            (ok.entries, ok.first_broken_seq),
            (total, None),
            "batch {batch}"
        );
    }
    // An entry removed at a batch's edge is found, whatever the batch size.
    let gone = before + 4;
    sqlx::query("DELETE FROM audit_log WHERE workspace_id = $1 AND seq = $2")
        .bind(&ws)
        .bind(gone)
        .execute(store.pool())
        .await
        .unwrap();
    for batch in [2, 3, total] {
        let found = audit::verify_in_batches(&store, &ws, batch).await.unwrap();
        assert_eq!(found.first_broken_seq, Some(gone), "batch {batch}");
        assert_eq!(found.entries, gone - 1, "batch {batch}");
    }
});

store_test!(provider_keys_are_sealed_and_rotated, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let master = MasterKey::generate().unwrap();
    member(&store, &ws, "admin@example.com", MemberRole::Admin).await;
    let admin = login(&store, "admin@example.com").await;
    let client = ClientInfo::default();
    let caller = Caller::new(&admin, &client);
    let raw = "sk-test-SUPERSECRET-1234";
    let input = ProviderInput {
        name: Some("OpenAI prod".into()),
        kind: Some("openai".into()),
        base_url: None,
        api_key: Some(raw.into()),
    };
    let p = actions::providers::create(&store, &master, caller, &input)
        .await
        .unwrap();
    assert_eq!(p.api_key_last4.as_deref(), Some("1234"));
    assert_eq!(
        providers::api_key(&store, &master, &ws, &p.id)
            .await
            .unwrap()
            .as_deref(),
        Some(raw)
    );

    // The raw key is nowhere in the table.
    let (blob,): (Vec<u8>,) =
        sqlx::query_as("SELECT api_key_encrypted FROM providers WHERE id = $1")
            .bind(&p.id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(!blob.windows(11).any(|w| w == b"SUPERSECRET"));

    let rotated = actions::providers::update(
        &store,
        &master,
        caller,
        &p.id,
        &ProviderInput {
            api_key: Some("sk-new-key-9876".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rotated.api_key_last4.as_deref(), Some("9876"));
    assert_eq!(
        providers::api_key(&store, &master, &ws, &p.id)
            .await
            .unwrap()
            .as_deref(),
        Some("sk-new-key-9876")
    );

    let entries = || async {
        audit::list(
            &store,
            &ws,
            &audit::Filter {
                limit: 500,
                ..audit::Filter::default()
            },
        )
        .await
        .unwrap()
        .len()
    };
    let before = entries().await;
    let dup = actions::providers::create(&store, &master, caller, &input)
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::Conflict(_)));
    assert_eq!(
        entries().await,
        before,
        "a refused action leaves no audit entry"
    );
    let no_url = ProviderInput {
        name: Some("Local".into()),
        kind: Some("openai_compatible".into()),
        ..Default::default()
    };
    assert!(matches!(
        actions::providers::create(&store, &master, caller, &no_url)
            .await
            .unwrap_err(),
        Error::Invalid {
            field: "base_url",
            ..
        }
    ));
    let bad_kind = ProviderInput {
        name: Some("X".into()),
        kind: Some("skynet".into()),
        ..Default::default()
    };
    assert!(
        actions::providers::create(&store, &master, caller, &bad_kind)
            .await
            .is_err()
    );

    // Other workspaces cannot see or delete it.
    let other = engine::store::workspaces::create(store.pool(), "Other", "other")
        .await
        .unwrap();
    assert!(matches!(
        providers::get(&store, &other.id, &p.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    let outsider = engine::auth::Principal {
        workspace_id: other.id.clone(),
        ..admin.clone()
    };
    assert!(
        actions::providers::delete(&store, Caller::new(&outsider, &client), &p.id)
            .await
            .is_err()
    );
    actions::providers::delete(&store, caller, &p.id)
        .await
        .unwrap();
    let log = audit::list(
        &store,
        &ws,
        &audit::Filter {
            limit: 500,
            ..audit::Filter::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for action in ["provider.create", "provider.rotate_key", "provider.delete"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
});
