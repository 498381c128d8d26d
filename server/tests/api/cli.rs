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
