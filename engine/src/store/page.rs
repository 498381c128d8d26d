//! Pages of lists: every list the API answers is `{ "items": [...], "next_cursor": ... }`,
//! read with `limit` and the `cursor` of the previous page.
//!
//! A cursor is opaque to clients: the sort key of the last item of the page, base64url-encoded.
//! Lists ordered by a key column page in SQL (keyset: no offsets to drift when rows are added);
//! the short lists of configuration (agents, providers, prices, keys, members) page in memory by
//! the same rules, so that clients see one shape everywhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

/// The page size when the client gives none.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page.
pub const MAX_LIMIT: i64 = 200;

pub use wire::Page;

/// What a client asked for: a page size and where to continue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page (1–200).
    pub limit: i64,
    /// The decoded sort key to continue after, if any.
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` (a number from 1 to 200; default 50) and decodes `cursor`; errors name
    /// the parameter.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest> {
        let limit = match limit.map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Error::invalid("limit", format!("must be a number from 1 to {MAX_LIMIT}"))
                })?,
        };
        let after = match cursor.map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(decode_cursor(raw)?),
        };
        Ok(PageRequest { limit, after })
    }
}

/// The opaque cursor for a sort key.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// The sort key inside a cursor; a 422 naming `cursor` when it is not one of ours.
pub fn decode_cursor(cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|k| !k.is_empty() && !k.contains('\0'))
        .ok_or_else(|| Error::invalid("cursor", "is not a cursor from a previous page"))
}

/// A keyset page from rows fetched with `LIMIT limit + 1`: the extra row only says that
/// another page follows, whose cursor is the last kept row's `key`.
pub fn from_rows<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more
        .then(|| rows.last().map(|last| encode_cursor(&key(last))))
        .flatten();
    Page {
        items: rows,
        next_cursor,
    }
}

/// The key of a list ordered by time then id: `"{time}:{id}"`.
pub fn time_id_key(time: i64, id: &str) -> String {
    format!("{time}:{id}")
}

/// A [`time_id_key`] parsed back; a 422 naming `cursor` when it is not one.
pub fn parse_time_id(key: &str) -> Result<(i64, String)> {
    key.split_once(':')
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
        .ok_or_else(|| Error::invalid("cursor", "is not a cursor from a previous page"))
}

/// Pages a short list in memory: items are ordered by `key` (unique), and the page holds those
/// after the cursor's key.
pub fn in_memory<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    request: &PageRequest,
) -> Page<T> {
    items.sort_by_key(|item| key(item));
    let mut rest: Vec<T> = match &request.after {
        Some(after) => items.into_iter().filter(|i| key(i) > *after).collect(),
        None => items,
    };
    let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next_cursor = more
        .then(|| rest.last().map(|last| encode_cursor(&key(last))))
        .flatten();
    Page {
        items: rest,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_one_another_without_gaps_or_repeats() {
        let items: Vec<String> = (0..7).map(|i| format!("item-{i}")).collect();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let request = PageRequest::parse(Some("3"), cursor.as_deref()).unwrap();
            let page = in_memory(items.clone(), Clone::clone, &request);
            seen.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn bad_parameters_are_named() {
        for (limit, cursor, field) in [
            (Some("0"), None, "limit"),
            (Some("201"), None, "limit"),
            (Some("ten"), None, "limit"),
            (None, Some("%%%"), "cursor"),
        ] {
            match PageRequest::parse(limit, cursor) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{limit:?} {cursor:?}: {other:?}"),
            }
        }
    }
}
