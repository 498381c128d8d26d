//! `/api/v1/budgets`: spending limits per workspace, agent, user or API key (admins change
//! them, every member reads them). Enforcement itself runs in the engine around every call.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::Caller;
use engine::budgets;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::budgets::{Budget, BudgetHistory, BudgetInput};

use super::AppState;
use super::auth::{Admin, Auth, Client};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::ListQuery;
use super::openapi::{ActionErrors, CreateErrors, ReadErrors, ReadOneErrors, UpdateErrors};

/// The routes under `/api/v1/budgets`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// Every budget of the workspace, by name, with its current period: spent, reserved by calls
/// under way, and the projection to the period's end.
#[utoipa::path(get, path = "/", tag = "budgets", params(ListQuery),
    responses((status = 200, description = "The budgets", body = Page<Budget>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Budget>>, ApiError> {
    let all = budgets::list(&state.store, &who).await?;
    Ok(Json(q.page(all, |b| format!("{}\u{0}{}", b.name, b.id))?))
}

/// One budget with its periods, newest first.
#[utoipa::path(get, path = "/{id}", tag = "budgets",
    params(("id" = String, Path, description = "The budget's id")),
    responses((status = 200, description = "The budget and its periods", body = BudgetHistory),
        ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<BudgetHistory>, ApiError> {
    Ok(Json(budgets::history(&state.store, &who, &id).await?))
}

/// Makes a budget (admins). Hard budgets refuse calls that would pass the amount, with
/// `BUDGET_EXCEEDED` naming the budget.
#[utoipa::path(post, path = "/", tag = "budgets", request_body = BudgetInput,
    responses((status = 201, description = "Created", body = Budget), CreateErrors))]
async fn create(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<BudgetInput>,
) -> Result<(StatusCode, Json<Budget>), ApiError> {
    let budget = budgets::create(&state.store, Caller::new(&who, &client), &body).await?;
    Ok((StatusCode::CREATED, Json(budget)))
}

/// Replaces a budget's settings (admins); what its periods spent stays.
#[utoipa::path(put, path = "/{id}", tag = "budgets", request_body = BudgetInput,
    params(("id" = String, Path, description = "The budget's id")),
    responses((status = 200, description = "The changed budget", body = Budget), UpdateErrors))]
async fn update(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BudgetInput>,
) -> Result<Json<Budget>, ApiError> {
    Ok(Json(
        budgets::update(&state.store, Caller::new(&who, &client), &id, &body).await?,
    ))
}

/// Deletes a budget with its history (admins).
#[utoipa::path(delete, path = "/{id}", tag = "budgets",
    params(("id" = String, Path, description = "The budget's id")),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn remove(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    budgets::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
