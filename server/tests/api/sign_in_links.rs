//! Sign-in links: e-mailed through SMTP (a fake server on loopback), redeemed once; without
//! SMTP none is made and the sign-in page says how an admin makes one.

use engine::domain::MemberRole;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{Db, default_ws, member_with_key, spawn_app_with};

/// A minimal SMTP server on loopback that accepts every message and hands its text over.
pub(crate) async fn fake_smtp() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 fake.smtp ESMTP\r\n").await;
                let mut in_data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = tx.send(std::mem::take(&mut message));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake.smtp\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, rx)
}

app_test!(without_smtp_no_sign_in_link_is_made, |app| {
    let ws = default_ws(&app).await;
    member_with_key(&app, &ws, "dev@example.com", MemberRole::Admin).await;
    let res = app
        .client
        .post(app.url("/api/auth/magic-link"))
        .json(&json!({ "email": "dev@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "EMAIL_NOT_CONFIGURED");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("fleetdeck user magic-link"),
        "{body}"
    );
    let (links,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM magic_links")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(links, 0, "no link was made");
    // The sign-in page says so instead of offering the form.
    let page = app
        .client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("E-mail is not configured on this server"),
        "{page}"
    );
});

#[tokio::test]
async fn magic_links_are_emailed_and_sign_in_once() {
    let (port, mut inbox) = fake_smtp().await;
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.smtp_url = Some(secrecy::SecretString::from(format!(
            "smtp://127.0.0.1:{port}"
        )));
        c.public_url = Some("http://fleetdeck.example".into());
    })
    .await
    .unwrap();
    let ws = default_ws(&app).await;
    member_with_key(&app, &ws, "dev@example.com", MemberRole::Developer).await;

    for email in ["nobody@example.com", "dev@example.com"] {
        let res = app
            .client
            .post(app.url("/api/auth/magic-link"))
            .json(&json!({ "email": email }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            202,
            "same answer for known and unknown addresses"
        );
    }
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .expect("a mail arrives")
        .unwrap();
    assert!(mail.contains("dev@example.com"), "{mail}");
    // The body may be quoted-printable: undo soft line breaks and the escaped '='.
    let mail = mail.replace("=\n", "").replace("=3D", "=");
    let start = mail
        .find("http://fleetdeck.example/api/auth/magic-link/redeem?token=")
        .expect("link in mail");
    let link = mail[start..].split_whitespace().next().unwrap().to_owned();
    let token = link.split("token=").nth(1).unwrap().to_owned();
    // Only one mail: the unknown address got none.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), inbox.recv())
            .await
            .is_err()
    );

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects
        .get(app.url(&format!("/api/auth/magic-link/redeem?token={token}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session: Value = app
        .client
        .get(app.url("/api/auth/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["user"]["email"], "dev@example.com");
    // A second use is refused.
    let res = no_redirects
        .get(app.url(&format!("/api/auth/magic-link/redeem?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
