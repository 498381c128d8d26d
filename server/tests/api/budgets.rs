//! `/api/v1/budgets` over HTTP: admins make, change and delete budgets; everyone reads them;
//! roles are checked before bodies; bad input is a 422 naming the field and changes nothing.

use engine::domain::MemberRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};

app_test!(budgets_over_rest, |app| {
    let ws = default_ws(&app).await;
    let (_, admin) =
        member_with_key(&app, &ws, "budget-admin@example.com", MemberRole::Admin).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "budget-viewer@example.com", MemberRole::Viewer).await;
    let body =
        json!({ "name": "Fleet", "scope": "workspace", "period": "month", "amount_usd": 12.5 });

    // Not signed in, then not an admin: refused before the body is read.
    let res = app
        .client
        .post(app.url("/api/v1/budgets"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .post(app.url("/api/v1/budgets"))
        .bearer_auth(&viewer)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = app
        .client
        .post(app.url("/api/v1/budgets"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: wire::budgets::Budget = res.json().await.unwrap();
    assert_eq!((made.amount_micros, made.hard), (12_500_000, true));
    assert_eq!(made.thresholds, vec![50, 80, 100]);

    // A bad amount: 422 naming it, nothing made.
    let res = app
        .client
        .post(app.url("/api/v1/budgets"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "Bad", "scope": "workspace", "period": "month", "amount_usd": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = res.json().await.unwrap();
    assert_eq!(error["code"], "VALIDATION_FAILED");
    assert_eq!(error["details"]["field"], "amount_usd");

    // Everyone reads; the viewer sees the one budget with its current period.
    let res = app
        .client
        .get(app.url("/api/v1/budgets"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page: wire::Page<wire::budgets::Budget> = res.json().await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].current.spent_micros, 0);

    let res = app
        .client
        .put(app.url(&format!("/api/v1/budgets/{}", made.id)))
        .bearer_auth(&admin)
        .json(
            &json!({ "name": "Fleet", "scope": "workspace", "period": "week",
                       "amount_usd": 3, "hard": false, "thresholds": [90] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let changed: wire::budgets::Budget = res.json().await.unwrap();
    assert_eq!((changed.period.as_str(), changed.hard), ("week", false));
    let res = app
        .client
        .get(app.url(&format!("/api/v1/budgets/{}", made.id)))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    let history: wire::budgets::BudgetHistory = res.json().await.unwrap();
    assert_eq!(history.periods.len(), 1);

    let res = app
        .client
        .delete(app.url(&format!("/api/v1/budgets/{}", made.id)))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .client
        .get(app.url(&format!("/api/v1/budgets/{}", made.id)))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
});
