//! The error every server function returns. The requests and responses themselves are the
//! `wire` crate's: the same types the REST API answers with.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The error every server function returns: typed, so pages can tell "not found" from
/// "invalid" from "the server failed".
///
/// It also reads the SPEC error body (`{"code", "message", …}`) that layers in front of the
/// server functions answer with (rate limit, authentication, CSRF, a NUL in the body), so a
/// page shows such a failure as a clear message instead of failing to decode it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum AppError {
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The input broke a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// Not signed in, or not allowed.
    #[error("{0}")]
    Denied(String),
    /// The server failed; details are in its logs.
    #[error("{0}")]
    Internal(String),
    /// The request did not reach the function or its answer did not come back.
    #[error("could not reach the server: {0}")]
    Transport(String),
}

/// What the sign-in page and the API say when no SMTP server is configured.
pub const EMAIL_NOT_CONFIGURED: &str = "e-mail is not configured on this server, so sign-in \
     links cannot be sent. An admin can create one on the server's terminal with \
     `fleetdeck user magic-link --email <address>`.";

impl<'de> Deserialize<'de> for AppError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        enum Tagged {
            NotFound(String),
            Invalid(String),
            Denied(String),
            Internal(String),
            Transport(String),
        }
        #[derive(Deserialize)]
        struct Spec {
            code: String,
            message: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Tagged(Tagged),
            Spec(Spec),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Tagged(Tagged::NotFound(m)) => AppError::NotFound(m),
            Wire::Tagged(Tagged::Invalid(m)) => AppError::Invalid(m),
            Wire::Tagged(Tagged::Denied(m)) => AppError::Denied(m),
            Wire::Tagged(Tagged::Internal(m)) => AppError::Internal(m),
            Wire::Tagged(Tagged::Transport(m)) => AppError::Transport(m),
            Wire::Spec(Spec { code, message }) => match code.as_str() {
                "RATE_LIMITED" | "UNAUTHORIZED" | "FORBIDDEN" | "CROSS_ORIGIN" => {
                    AppError::Denied(message)
                }
                c if c.ends_with("NOT_FOUND") => AppError::NotFound(message),
                "INTERNAL" => AppError::Internal(message),
                _ => AppError::Invalid(message),
            },
        })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn errors_round_trip_and_layer_errors_are_readable() {
        for e in [
            AppError::NotFound("a".into()),
            AppError::Invalid("b".into()),
            AppError::Denied("c".into()),
            AppError::Internal("d".into()),
            AppError::Transport("e".into()),
        ] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e);
        }
        // What the rate limit (or any layer) answers a server function call with.
        let spec = r#"{"code":"RATE_LIMITED","message":"too many requests; retry in 3 s","details":null,"request_id":"x","timestamp":"t"}"#;
        assert_eq!(
            serde_json::from_str::<AppError>(spec).unwrap(),
            AppError::Denied("too many requests; retry in 3 s".into())
        );
        let spec =
            r#"{"code":"VALIDATION_FAILED","message":"the request body contains a NUL character"}"#;
        assert!(matches!(
            serde_json::from_str::<AppError>(spec).unwrap(),
            AppError::Invalid(_)
        ));
    }
}
