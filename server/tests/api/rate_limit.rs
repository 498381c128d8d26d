//! The rate limit (SPEC: 429 with Retry-After): per address for anonymous callers, per
//! session for browsers, with a larger bucket for a session's own pages (server functions)
//! than for its REST calls.

use engine::domain::MemberRole;
use serde_json::Value;

use crate::helpers::{Db, PASSWORD, default_ws, member_with_key, spawn_app_with};

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(Db::Sqlite, |c| c.rate_limit_per_minute = 5)
        .await
        .unwrap();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..7 {
        let res = app
            .client
            .get(app.url("/api/auth/session"))
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["code"], "RATE_LIMITED");
            statuses.push(429);
        } else {
            statuses.push(res.status().as_u16());
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    assert!(retry_after.unwrap().parse::<u64>().unwrap() >= 1);
    // A signed-in browser's pages have a bucket ten times larger for their server functions;
    // its REST calls keep the API's.
    let ws = default_ws(&app).await;
    member_with_key(&app, &ws, "pages@example.com", MemberRole::Viewer).await;
    // Signed in through the engine: this address's bucket is spent.
    let (token, _) = engine::store::sessions::login(
        app.store(),
        "pages@example.com",
        PASSWORD,
        &engine::store::sessions::ClientInfo::default(),
    )
    .await
    .unwrap();
    let cookie = format!("{}={token}", engine::auth::web::SESSION_COOKIE);
    let call = |path: &'static str| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let req = if path.starts_with("/api/v1/") {
                app.client.get(app.url(path))
            } else {
                app.client
                    .post(app.url(path))
                    .header("origin", app.url(""))
                    .header("content-type", "application/x-www-form-urlencoded")
            };
            req.header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let mut pages = Vec::new();
    for _ in 0..30 {
        pages.push(call("/api/dashboard").await);
    }
    assert!(pages.iter().all(|s| *s == 200), "{pages:?}");
    let mut rest = Vec::new();
    for _ in 0..7 {
        rest.push(call("/api/v1/tasks").await);
    }
    assert_eq!(rest, [200, 200, 200, 200, 200, 429, 429]);
    // Pages are not limited.
    assert_eq!(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
