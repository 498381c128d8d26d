//! The `fleetdeck` binary's commands, run as a user would.

use std::path::Path;
use std::process::Command;

fn fleetdeck(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.env_remove("DATABASE_URL")
        .env("FLEETDECK_DATA_DIR", data_dir)
        .env("FLEETDECK_LOG_FORMAT", "json")
        .env("FLEETDECK_CONFIG", data_dir.join("absent.toml"));
    cmd
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fleetdeck-cli-{name}-{}", engine::new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fake_site(dir: &Path) -> std::path::PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    for file in [
        "pkg/fleetdeck.js",
        "pkg/fleetdeck_bg.wasm",
        "pkg/fleetdeck.css",
        "echarts.min.js",
    ] {
        std::fs::write(site.join(file), b"x").unwrap();
    }
    site
}

#[test]
fn migrate_creates_the_sqlite_file_and_doctor_passes() {
    let dir = temp_dir("doctor");
    let site = fake_site(&dir);

    // Before anything exists, doctor fails with clear lines.
    let out = fleetdeck(&dir)
        .env("FLEETDECK_SITE_ROOT", &site)
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("❌ database reachable"), "{text}");

    let out = fleetdeck(&dir).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("fleetdeck.db").is_file());

    let out = fleetdeck(&dir)
        .env("FLEETDECK_SITE_ROOT", &site)
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for check in [
        "configuration",
        "database reachable",
        "migrations current",
        "site assets",
    ] {
        assert!(text.contains(&format!("✅ {check}")), "{check}: {text}");
    }
    assert!(!text.contains('❌'));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn doctor_fails_clearly_when_the_database_is_unreachable() {
    let dir = temp_dir("unreachable");
    let site = fake_site(&dir);
    let out = fleetdeck(&dir)
        .env("FLEETDECK_SITE_ROOT", &site)
        .env(
            "DATABASE_URL",
            "postgres://fleetdeck:secret-pw@127.0.0.1:9/nowhere",
        )
        .arg("doctor")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("❌ database reachable"), "{stdout}");
    assert!(stdout.contains("✅ site assets"), "{stdout}");
    // No stack trace, no password.
    for text in [&stdout, &stderr] {
        assert!(!text.contains("panicked"), "{text}");
        assert!(!text.contains("secret-pw"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn doctor_reports_missing_site_assets() {
    let dir = temp_dir("nosite");
    let out = fleetdeck(&dir).arg("migrate").output().unwrap();
    assert!(out.status.success());
    let out = fleetdeck(&dir)
        .env("FLEETDECK_SITE_ROOT", dir.join("missing-site"))
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains("❌ site assets"), "{text}");
    assert!(text.contains("make build"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_config_value_is_a_clear_error() {
    let dir = temp_dir("badcfg");
    let out = fleetdeck(&dir)
        .env("FLEETDECK_ADDR", "not-an-address")
        .arg("migrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("invalid configuration"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn users_keys_and_the_audit_chain_from_the_command_line() {
    let dir = temp_dir("identity");
    let out = fleetdeck(&dir)
        .args([
            "user",
            "create",
            "--email",
            "Boss@Example.com",
            "--password",
            "a long enough password",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("boss@example.com (admin)"));

    let out = fleetdeck(&dir)
        .args([
            "user",
            "create",
            "--email",
            "boss@example.com",
            "--password",
            "a long enough password",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "duplicate e-mail must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already exists") && !stderr.contains("panicked"),
        "{stderr}"
    );

    let out = fleetdeck(&dir)
        .args([
            "api-key",
            "create",
            "--email",
            "boss@example.com",
            "--name",
            "deploy bot",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let key = stdout.trim_end().lines().last().unwrap();
    assert!(key.starts_with("fdk_") && key.len() > 40, "{stdout}");

    let out = fleetdeck(&dir)
        .args(["user", "magic-link", "--email", "boss@example.com"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("/api/auth/magic-link/redeem?token=fdm_")
    );

    let out = fleetdeck(&dir).args(["audit", "verify"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("2 entries, chain intact"), "{stdout}");

    // Tamper with the log behind Fleetdeck's back.
    let db = dir.join("fleetdeck.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = engine::Store::open_sqlite_file(&db).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let out = fleetdeck(&dir).args(["audit", "verify"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("❌") && stdout.contains("broken at entry 1"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let dir = temp_dir("logs");
    let password = "log-test password 123";
    let out = fleetdeck(&dir)
        .args([
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password",
            password,
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = fleetdeck(&dir)
        .args([
            "api-key",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "logs",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let api_key = stdout.trim_end().lines().last().unwrap().to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (smtp_port, mut inbox) = crate::sign_in_links::fake_smtp().await;
    let mut server = fleetdeck(&dir)
        .env("FLEETDECK_LOG", "debug")
        .env(
            "FLEETDECK_SMTP_URL",
            format!("smtp://127.0.0.1:{smtp_port}"),
        )
        .env("FLEETDECK_SITE_ROOT", dir.join("site"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = engine::providers::http_client();
    let mut ready = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "server did not start");

    let raw = "sk-logtest-SECRETVALUE-1234";
    let res = client
        .post(format!("{base}/api/v1/providers"))
        .bearer_auth(&api_key)
        .json(&serde_json::json!({ "name": "Logged", "kind": "openai", "api_key": raw }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "email": "ops@example.com", "password": password }))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    // A magic sign-in link travels by e-mail only.
    let res = client
        .post(format!("{base}/api/auth/magic-link"))
        .json(&serde_json::json!({ "email": "ops@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .expect("a mail arrives")
        .unwrap()
        .replace("=\n", "")
        .replace("=3D", "=");
    let link_token = mail
        .split("token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a token in the mail")
        .to_owned();
    assert!(link_token.len() >= 20, "{link_token}");
    // A failing call logs too.
    client
        .post(format!("{base}/api/v1/providers"))
        .bearer_auth(&api_key)
        .json(&serde_json::json!({ "name": "Bad", "kind": "nope", "api_key": raw }))
        .send()
        .await
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("\"level\""), "JSON logs were written: {logs}");
    for secret in [
        "SECRETVALUE",
        password,
        api_key.as_str(),
        session.as_str(),
        link_token.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Row counts of the tables a restore must bring back whole.
fn counts(db: &Path) -> Vec<i64> {
    let url = engine::store::backend::sqlite_url(db);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = engine::Store::connect(&url).await.unwrap();
            let mut out = Vec::new();
            for table in ["workspaces", "users", "api_keys", "audit_log", "prices"] {
                let (n,): (i64,) =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                        .fetch_one(store.pool())
                        .await
                        .unwrap();
                out.push(n);
            }
            store.close().await;
            out
        })
}

fn ok(out: &std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn a_backup_restores_into_a_database_doctor_passes_with_equal_counts_and_exports_stream() {
    let dir = temp_dir("backup");
    let site = fake_site(&dir);
    ok(&fleetdeck(&dir).arg("migrate").output().unwrap());
    ok(&fleetdeck(&dir)
        .args([
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password",
            "a-long-password",
            "--role",
            "admin",
        ])
        .output()
        .unwrap());
    ok(&fleetdeck(&dir)
        .args([
            "api-key",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "backup test",
        ])
        .output()
        .unwrap());

    // Two backups a second apart, keeping one: the older is removed.
    let backups = dir.join("backups");
    let first = ok(&fleetdeck(&dir)
        .args(["backup", "--keep", "1"])
        .output()
        .unwrap());
    assert!(first.contains("✅ backed up"), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = ok(&fleetdeck(&dir)
        .args(["backup", "--keep", "1"])
        .output()
        .unwrap());
    assert!(second.contains("removed the older backup"), "{second}");
    let files: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];

    // Restored into another data directory (with the master key kept beside the backup).
    let other = temp_dir("restored");
    if dir.join("master.key").is_file() {
        std::fs::copy(dir.join("master.key"), other.join("master.key")).unwrap();
    }
    let restored = ok(&fleetdeck(&other)
        .args(["restore", "--from"])
        .arg(file)
        .output()
        .unwrap());
    assert!(restored.contains("✅ restored"), "{restored}");
    // A second restore over it needs --force.
    let again = fleetdeck(&other)
        .args(["restore", "--from"])
        .arg(file)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    // Something that is no backup is refused and changes nothing.
    std::fs::write(other.join("junk.db"), b"not a database").unwrap();
    let junk = fleetdeck(&other)
        .args(["restore", "--force", "--from"])
        .arg(other.join("junk.db"))
        .output()
        .unwrap();
    assert!(!junk.status.success());
    let doctor = ok(&fleetdeck(&other)
        .env("FLEETDECK_SITE_ROOT", &site)
        .arg("doctor")
        .output()
        .unwrap());
    assert!(!doctor.contains('❌'), "{doctor}");
    assert_eq!(
        counts(&other.join("fleetdeck.db")),
        counts(&dir.join("fleetdeck.db"))
    );

    // Exports: the audit log as CSV (a header and one line per entry) and JSON Lines.
    let audit_rows = counts(&dir.join("fleetdeck.db"))[3];
    let csv = fleetdeck(&dir)
        .args(["export", "audit", "--format", "csv"])
        .output()
        .unwrap();
    let text = ok(&csv);
    let stdout = String::from_utf8_lossy(&csv.stdout);
    assert!(
        stdout.starts_with("id,workspace_id,seq,created_at,actor"),
        "{text}"
    );
    assert_eq!(stdout.lines().count() as i64, audit_rows + 1, "{text}");
    let out_file = dir.join("audit.jsonl");
    ok(&fleetdeck(&dir)
        .args(["export", "audit", "--from", "2000-01-01", "--out"])
        .arg(&out_file)
        .output()
        .unwrap());
    let lines = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(lines.lines().count() as i64, audit_rows);
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(
        first["seq"].is_i64() && first["action"].is_string(),
        "{first}"
    );
    // Nothing before 2000, and bad arguments are refused with a clear line.
    let none = fleetdeck(&dir)
        .args(["export", "calls", "--to", "2000-01-01"])
        .output()
        .unwrap();
    assert!(ok(&none).contains("exported 0 calls"));
    let bad = fleetdeck(&dir)
        .args(["export", "audit", "--format", "xml"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("csv or jsonl"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

/// Runs `f` against the data directory's SQLite database.
fn with_store<T>(db: &Path, f: impl AsyncFnOnce(&engine::Store) -> T) -> T {
    let url = engine::store::backend::sqlite_url(db);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = engine::Store::connect(&url).await.unwrap();
            let out = f(&store).await;
            store.close().await;
            out
        })
}

#[test]
fn rotating_the_master_key_reseals_every_provider_key_and_doctor_checks_it() {
    use engine::auth::secrets::MasterKey;
    let dir = temp_dir("rotate");
    let site = fake_site(&dir);
    ok(&fleetdeck(&dir).arg("migrate").output().unwrap());
    let old = MasterKey::load_or_create(&dir, None).unwrap();
    let db = dir.join("fleetdeck.db");
    let sealed = old.seal(b"sk-rotate-me-1234", "prov-rotate").unwrap();
    with_store(&db, async |store| {
        sqlx::query(
            "INSERT INTO providers (id, workspace_id, name, kind, base_url, api_key_encrypted, \
             api_key_last4, created_at, updated_at) \
             SELECT 'prov-rotate', id, 'Rotated', 'openai', NULL, $1, '1234', 0, 0 FROM workspaces LIMIT 1",
        )
        .bind(sealed.clone())
        .execute(store.pool())
        .await
        .unwrap();
    });
    let doctor = ok(&fleetdeck(&dir)
        .env("FLEETDECK_SITE_ROOT", &site)
        .arg("doctor")
        .output()
        .unwrap());
    assert!(doctor.contains("✅ master key"), "{doctor}");

    let out = ok(&fleetdeck(&dir)
        .args(["master-key", "rotate"])
        .output()
        .unwrap());
    assert!(out.contains("re-sealed 1 provider key"), "{out}");
    assert!(
        !out.contains(&old.to_base64()),
        "no key printed when it lives in a file"
    );
    assert!(dir.join("master.key.old").is_file());
    let new = MasterKey::load_existing(&dir, None).unwrap().unwrap();
    assert_ne!(new.to_base64(), old.to_base64());
    let stored: Vec<u8> = with_store(&db, async |store| {
        let (s,): (Vec<u8>,) =
            sqlx::query_as("SELECT api_key_encrypted FROM providers WHERE id = 'prov-rotate'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        s
    });
    assert_eq!(
        new.open(&stored, "prov-rotate").unwrap(),
        b"sk-rotate-me-1234"
    );
    assert!(old.open(&stored, "prov-rotate").is_err());

    // Doctor passes with the new key and names the provider with the old one.
    ok(&fleetdeck(&dir)
        .env("FLEETDECK_SITE_ROOT", &site)
        .arg("doctor")
        .output()
        .unwrap());
    let stale = fleetdeck(&dir)
        .env("FLEETDECK_SITE_ROOT", &site)
        .env("FLEETDECK_MASTER_KEY", old.to_base64())
        .arg("doctor")
        .output()
        .unwrap();
    assert!(!stale.status.success());
    let text = String::from_utf8_lossy(&stale.stdout);
    assert!(
        text.contains("❌ master key") && text.contains("Rotated"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
