//! Identity and access: who is calling, in which workspace, with which role.
//!
//! Credentials (session cookies, API keys, magic links) are random tokens of which only a
//! SHA-256 digest is stored; passwords are argon2id hashes; provider API keys are sealed with
//! AES-256-GCM under the master key ([`secrets`]).

pub mod password;
pub mod rotate;
pub mod secrets;
pub mod tokens;
pub mod web;

use serde::Serialize;

use crate::domain::MemberRole;
use crate::{Error, Result};

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A browser session cookie.
    Session,
    /// An `Authorization: Bearer` API key.
    ApiKey,
}

/// An authenticated caller acting in one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The user.
    pub user_id: String,
    /// Their e-mail address.
    pub email: String,
    /// The workspace every query of this request is confined to.
    pub workspace_id: String,
    /// Their role in that workspace.
    pub role: MemberRole,
    /// How they authenticated.
    pub method: AuthMethod,
}

impl Principal {
    /// Fails with [`Error::Forbidden`] unless the caller's role includes `needed`.
    pub fn require(&self, needed: MemberRole) -> Result<()> {
        if self.role.includes(needed) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this action needs the {} role; you are a {}",
                needed.as_str(),
                self.role.as_str()
            )))
        }
    }
}
