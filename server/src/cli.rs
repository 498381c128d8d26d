//! Administrative commands: users, magic links, API keys and the audit chain.
//!
//! Each opens the configured database (migrating and seeding it like `serve` does), calls the
//! same engine functions as the HTTP API, records an audit entry with the actor `cli`, and
//! prints a readable result. Errors come back as `anyhow` chains for `main` to print.

use anyhow::{Context, bail};
use engine::auth::{AuthMethod, Principal};
use engine::domain::MemberRole;
use engine::store::{api_keys, audit, sessions, users};
use serde_json::json;

use crate::config::Config;

/// The audit entry of an operator's action from the terminal (actor `cli`), appended in the
/// same transaction as the action.
fn cli_entry(
    workspace_id: &str,
    action: &str,
    target: String,
    details: serde_json::Value,
) -> audit::NewEntry {
    audit::NewEntry {
        workspace_id: workspace_id.to_owned(),
        actor: "cli".into(),
        action: action.into(),
        target,
        details,
        ..audit::NewEntry::default()
    }
}

/// `fleetdeck user create`.
pub async fn user_create(
    config: &Config,
    email: &str,
    password: &str,
    role: &str,
) -> anyhow::Result<()> {
    let (store, workspace_id) = crate::open_store(config).await?;
    let role = MemberRole::parse(role)?;
    let mut tx = store.begin().await?;
    let member = users::create(&mut tx, &workspace_id, email, Some(password), role).await?;
    audit::append(
        &mut tx,
        &cli_entry(
            &workspace_id,
            "user.create",
            format!("user:{}", member.id),
            json!({ "email": member.email, "role": member.role }),
        ),
    )
    .await?;
    tx.commit().await?;
    println!(
        "✅ created {} ({}) with {} credits",
        member.email, member.role, member.credits
    );
    store.close().await;
    Ok(())
}

/// `fleetdeck user list`.
pub async fn user_list(config: &Config) -> anyhow::Result<()> {
    let (store, workspace_id) = crate::open_store(config).await?;
    let members = users::list(store.pool(), &workspace_id).await?;
    if members.is_empty() {
        println!(
            "no users yet: create one with `fleetdeck user create --email … --password … --role admin`"
        );
    }
    for m in members {
        println!("{:<40} {:<10} {:>6} credits", m.email, m.role, m.credits);
    }
    store.close().await;
    Ok(())
}

/// `fleetdeck user magic-link`: prints a one-time sign-in URL.
pub async fn magic_link(config: &Config, email: &str) -> anyhow::Result<()> {
    let (store, _) = crate::open_store(config).await?;
    let Some(token) = sessions::create_magic_link(&store, email).await? else {
        bail!("no user with e-mail {email}");
    };
    println!("Sign-in link (valid 15 minutes, once):");
    println!(
        "http://{}/api/auth/magic-link/redeem?token={token}",
        config.addr
    );
    store.close().await;
    Ok(())
}

/// `fleetdeck api-key create`: prints the new key as the last line.
pub async fn api_key_create(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let (store, workspace_id) = crate::open_store(config).await?;
    let member = users::member_by_email(store.pool(), &workspace_id, email)
        .await?
        .with_context(|| format!("no user with e-mail {email}"))?;
    let owner = Principal {
        user_id: member.id.clone(),
        email: member.email.clone(),
        workspace_id: workspace_id.clone(),
        role: MemberRole::parse(&member.role)?,
        method: AuthMethod::ApiKey,
    };
    // The key and its audit entry (actor `cli`) in one transaction.
    let mut tx = store.begin().await?;
    let (key, info) = api_keys::create(&mut tx, &owner, name).await?;
    audit::append(
        &mut tx,
        &cli_entry(
            &workspace_id,
            "api_key.create",
            format!("api_key:{}", info.id),
            json!({ "name": info.name, "prefix": info.prefix, "owner": member.email }),
        ),
    )
    .await?;
    tx.commit().await?;
    println!(
        "API key \"{}\" for {} (shown once; store it now):",
        info.name, member.email
    );
    println!("{key}");
    store.close().await;
    Ok(())
}

/// `fleetdeck audit verify`: fails when any workspace's chain is broken.
pub async fn audit_verify(config: &Config) -> anyhow::Result<()> {
    let (store, _) = crate::open_store(config).await?;
    let mut broken = 0;
    for ws in audit::workspaces(&store).await? {
        let result = audit::verify(&store, &ws).await?;
        match result.first_broken_seq {
            None => println!(
                "✅ workspace {ws}: {} entries, chain intact",
                result.entries
            ),
            Some(seq) => {
                broken += 1;
                println!(
                    "❌ workspace {ws}: chain broken at entry {seq} (entries before it are intact)"
                );
            }
        }
    }
    store.close().await;
    if broken > 0 {
        bail!("the audit log was tampered with in {broken} workspace(s)");
    }
    Ok(())
}

/// `fleetdeck master-key rotate`.
pub async fn master_key_rotate(config: &Config) -> anyhow::Result<()> {
    use engine::auth::secrets::{KEY_FILE, MasterKey};
    let old = config.master_key()?;
    let new = MasterKey::generate()?;
    let (store, _) = crate::open_store(config).await?;
    let from_env = config.master_key.is_some();
    let key_file = config.data_dir.join(KEY_FILE);
    let staged = config.data_dir.join(format!("{KEY_FILE}.new"));
    if !from_env {
        // The new key is on disk before any secret is sealed with it.
        let _ = std::fs::remove_file(&staged);
        new.write_new_file(&staged)?;
    }
    let done = match engine::auth::rotate::reseal(&store, &old, &new).await {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e.into());
        }
    };
    store.close().await;
    println!(
        "✅ re-sealed {} provider key(s) and {} channel secret(s) with a new master key",
        done.provider_keys, done.channel_secrets
    );
    if from_env {
        println!("Set FLEETDECK_MASTER_KEY to this value on every process, then restart them:");
        println!("{}", new.to_base64());
    } else {
        let old_file = config.data_dir.join(format!("{KEY_FILE}.old"));
        std::fs::rename(&key_file, &old_file)
            .with_context(|| format!("cannot move {} aside", key_file.display()))?;
        std::fs::rename(&staged, &key_file)
            .with_context(|| format!("cannot put the new key at {}", key_file.display()))?;
        println!(
            "The new key is {}; the old one is kept at {} (delete it once every process runs with the new one). Restart the server.",
            key_file.display(),
            old_file.display()
        );
    }
    Ok(())
}
