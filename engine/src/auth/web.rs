//! The session cookie and same-origin rule as plain strings, shared by the REST edge and the
//! Leptos server functions so that both speak exactly the same protocol.

use crate::store::sessions::SESSION_TTL_MS;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fleetdeck_session";

/// The session token inside a `Cookie` header value, if present.
pub fn session_from_cookie_header(header: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value for a new session: HttpOnly, SameSite=Lax, Secure behind https.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let max_age = SESSION_TTL_MS / 1000;
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// Whether a write comes from this site: the `Origin` (or, failing that, `Referer`) header
/// names the same host as the `Host` header. Browsers send `Origin` on cross-site writes, so a
/// forged form or fetch from another site fails this check.
pub fn same_origin(host: Option<&str>, origin_or_referer: Option<&str>) -> bool {
    match (host, origin_or_referer) {
        (Some(host), Some(origin)) => origin
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            .is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_origins() {
        assert_eq!(
            session_from_cookie_header("a=1; fleetdeck_session=tok; b=2").as_deref(),
            Some("tok")
        );
        assert_eq!(session_from_cookie_header("fleetdeck_session="), None);
        assert!(set_cookie("t", true).ends_with("; Secure"));
        assert!(same_origin(
            Some("127.0.0.1:3000"),
            Some("http://127.0.0.1:3000")
        ));
        assert!(same_origin(
            Some("a.example"),
            Some("https://a.example/page?x")
        ));
        assert!(!same_origin(
            Some("a.example"),
            Some("https://evil.example")
        ));
        assert!(!same_origin(Some("a.example"), None));
    }
}
