//! `/api/v1/users` and `/api/v1/credits`: members of the workspace and their credits.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use engine::actions::Caller;
use engine::store::users::{self, Member};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::access::{Balance, NewMember, TopUp};

use super::AppState;
use super::auth::{Admin, Client};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::ListQuery;
use super::openapi::{AdminReadErrors, CreateErrors, UpdateErrors};
use engine::store::credits::LedgerEntry;
use engine::store::page::Page;

/// The routes under `/api/v1/users`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create))
}

/// The routes under `/api/v1/credits`.
pub fn credits_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(top_up))
        .routes(routes!(ledger))
}

/// The workspace's members, by e-mail (admins).
#[utoipa::path(get, path = "/", tag = "access", params(ListQuery),
    responses((status = 200, description = "Members", body = Page<Member>), AdminReadErrors))]
async fn list(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Member>>, ApiError> {
    let members = users::list(state.store.pool(), &who.workspace_id).await?;
    Ok(Json(q.page(members, |m| m.email.clone())?))
}

/// Adds a member (admins).
#[utoipa::path(post, path = "/", tag = "access", request_body = NewMember,
    responses((status = 201, description = "Added", body = Member), CreateErrors))]
async fn create(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    let member = engine::actions::access::add_member(
        &state.store,
        Caller::new(&who, &client),
        &body.email,
        body.password.as_deref(),
        &body.role,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// Adds credits to a member (admins).
#[utoipa::path(post, path = "/topup", tag = "access", request_body = TopUp,
    responses((status = 200, description = "The new balance", body = Balance), UpdateErrors))]
async fn top_up(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<TopUp>,
) -> Result<Json<Balance>, ApiError> {
    let user_id = match (body.user_id, body.email) {
        (Some(id), _) => id,
        (None, Some(email)) => {
            users::member_by_email(state.store.pool(), &who.workspace_id, &email)
                .await?
                .map(|m| m.id)
                .ok_or_else(|| engine::Error::not_found("user", email))?
        }
        (None, None) => {
            return Err(engine::Error::invalid("user_id", "give user_id or email").into());
        }
    };
    let balance = engine::actions::access::top_up(
        &state.store,
        Caller::new(&who, &client),
        &user_id,
        body.amount,
    )
    .await?;
    Ok(Json(Balance {
        user_id,
        credits: balance,
    }))
}

/// The credit ledger, newest first (admins).
#[utoipa::path(get, path = "/ledger", tag = "access", params(ListQuery),
    responses((status = 200, description = "Entries", body = Page<LedgerEntry>), AdminReadErrors))]
async fn ledger(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<LedgerEntry>>, ApiError> {
    let page =
        engine::store::credits::ledger_page(&state.store, &who.workspace_id, &q.request()?).await?;
    Ok(Json(page))
}
