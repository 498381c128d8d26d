//! Who is signed in.

use serde::{Deserialize, Serialize};

/// Who is signed in, where, and their credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The member.
    pub user: SessionUser,
    /// The workspace they act in.
    pub workspace: SessionWorkspace,
    /// Their role there: `admin`, `developer` or `viewer`.
    pub role: String,
    /// Their credit balance.
    pub credits: i64,
}

/// The signed-in member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionUser {
    /// User id.
    pub id: String,
    /// E-mail address.
    pub email: String,
}

/// The workspace of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionWorkspace {
    /// Workspace id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A password sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Login {
    /// The member's e-mail address.
    pub email: String,
    /// Their password.
    pub password: String,
}

/// Where to send a sign-in link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MagicLinkRequest {
    /// The member's e-mail address.
    pub email: String,
}

/// The answer to a sign-in link request, the same whether the address is known or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkSent {
    /// Always `sent`.
    pub status: String,
    /// For people.
    pub message: String,
}
