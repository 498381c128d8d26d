//! Long lists read as one: the keyset pages after the first are fetched as the list's foot
//! nears the screen and appended in place (page 1,000 costs what page 2 does), with a link to
//! that page for a browser without script. Owned by the page, so a live reload of the first
//! page keeps them; while any are loaded, live changes wait for the reader
//! ([`MorePages::stale`]) instead of moving the list under them.

use std::future::Future;

use leptos::prelude::*;

use crate::model::AppError;
use wire::Page;

/// `path` with the non-empty `params` as its query string: a list's address for its filters
/// and cursor (empty ones are left out, so an unfiltered list is plainly `path`).
pub fn list_url(path: &str, params: &[(&str, &String)]) -> String {
    let mut url = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        if !value.is_empty() {
            url.append_pair(name, value);
        }
    }
    let query = url.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// A list's query that pages by cursor.
pub trait PagedQuery: Clone + Send + Sync + 'static {
    /// What the list shows.
    type Item: Clone + Send + Sync + 'static;
    /// This query, from `cursor` on.
    fn at_cursor(&self, cursor: String) -> Self;
    /// The page's address: the link to the next page without script.
    fn url(&self) -> String;
    /// Fetches this page.
    fn fetch(self) -> impl Future<Output = Result<Page<Self::Item>, AppError>> + 'static;
}

/// The pages after the first of a list filtered by `Q`.
pub struct MorePages<Q: PagedQuery> {
    /// The rows of the pages loaded so far.
    pub rows: RwSignal<Vec<Q::Item>>,
    /// The cursor of the next page, if there is one.
    pub next: RwSignal<Option<String>>,
    loading: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// The list's filters.
    pub query: StoredValue<Q>,
    /// The list changed while older pages were loaded: it offers to show the latest.
    pub stale: RwSignal<bool>,
}

impl<Q: PagedQuery> Clone for MorePages<Q> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Q: PagedQuery> Copy for MorePages<Q> {}

impl<Q: PagedQuery> MorePages<Q> {
    /// None loaded yet, for the list filtered by `query`.
    pub fn new(query: Q) -> Self {
        Self {
            rows: RwSignal::new(Vec::new()),
            next: RwSignal::new(None),
            loading: RwSignal::new(false),
            error: RwSignal::new(None),
            query: StoredValue::new(query),
            stale: RwSignal::new(false),
        }
    }

    /// Forgets the loaded pages (a new filter, or the reader asked for the latest).
    pub fn reset(self, query: Q) {
        self.rows.set(Vec::new());
        self.next.set(None);
        self.error.set(None);
        self.stale.set(false);
        self.query.set_value(query);
    }

    /// Whether older pages are shown.
    pub fn extended(self) -> bool {
        !self.rows.read_untracked().is_empty()
    }

    /// The first page (re)drawn: the pages after it continue from it, unless some are loaded
    /// already (then they continue from the last of those).
    pub fn continue_from(self, first: &Page<Q::Item>) {
        if self.rows.read_untracked().is_empty() {
            self.next.set(first.next_cursor.clone());
        }
    }

    /// Fetches and appends the next page, unless one is on its way or there is none.
    fn load(self) {
        if self.loading.get_untracked() {
            return;
        }
        let Some(cursor) = self.next.get_untracked() else {
            return;
        };
        self.loading.set(true);
        self.error.set(None);
        let query = self.query.with_value(|q| q.at_cursor(cursor));
        leptos::task::spawn_local(async move {
            match query.fetch().await {
                Ok(page) => {
                    self.rows.update(|rows| rows.extend(page.items));
                    self.next.set(page.next_cursor);
                }
                Err(e) => self.error.set(Some(e.to_string())),
            }
            self.loading.set(false);
        });
    }
}

/// The foot of a long list: loads the next page when it comes near the screen (or on a click;
/// without script the link opens that page), says how many are shown, offers a retry. `noun`
/// names the rows ("tasks", "entries"), `word` what the next ones are ("older", "more").
#[component]
pub fn LoadMore<Q: PagedQuery>(
    more: MorePages<Q>,
    /// A link back to the first page, when this list is not it.
    newest: Option<String>,
    noun: &'static str,
    /// What the rows after the first page are: "older" (lists newest first) or "more".
    #[prop(default = "older")]
    word: &'static str,
    /// The link back to the first page.
    #[prop(default = "← Newest")]
    first: &'static str,
) -> impl IntoView {
    let foot = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let near = move || {
            foot.get_untracked().is_some_and(|el| {
                let top = el.get_bounding_client_rect().top();
                let height = web_sys::window()
                    .and_then(|w| w.inner_height().ok())
                    .and_then(|h| h.as_f64())
                    .unwrap_or(800.0);
                top < height + 800.0
            })
        };
        let handle = window_event_listener(leptos::ev::scroll, move |_| {
            if near() && more.error.get_untracked().is_none() {
                more.load();
            }
        });
        on_cleanup(move || handle.remove());
    }
    let older_href = move || {
        more.next
            .get()
            .map(|cursor| more.query.with_value(|q| q.at_cursor(cursor)).url())
    };
    view! {
        <div class="pager list-foot" node_ref=foot data-testid="list-foot">
            {newest.map(|href| view! { <a class="button button-secondary" href=href>{first}</a> })}
            <span class="small muted" aria-live="polite" data-testid="list-count">
                {move || {
                    let extra = more.rows.read().len();
                    match (more.loading.get(), more.next.read().is_some()) {
                        (true, _) => format!("Loading {word} {noun}…"),
                        (false, true) if extra > 0 => format!("{extra} {word} {noun} loaded · scroll for more"),
                        (false, false) if extra > 0 => format!("{extra} {word} {noun} loaded · that is all"),
                        _ => String::new(),
                    }
                }}
            </span>
            {move || more.error.get().map(|e| view! {
                <span class="form-error" role="alert">{e}</span>
                <button class="button button-secondary" type="button" on:click=move |_| more.load()>"Try again"</button>
            })}
            {move || older_href().map(|href| view! {
                <a
                    class="button button-secondary"
                    href=href
                    data-testid=format!("{word}-{noun}")
                    on:click=move |ev| {
                        ev.prevent_default();
                        more.load();
                    }
                >
                    {format!("Load {word} {noun}")}
                </a>
            })}
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::list_url;

    #[test]
    fn a_list_url_keeps_only_set_params_encoded() {
        let (empty, set, odd) = (String::new(), "system".to_owned(), "a b&c".to_owned());
        assert_eq!(list_url("/audit", &[("actor", &empty)]), "/audit");
        assert_eq!(
            list_url(
                "/audit",
                &[("actor", &set), ("action", &empty), ("cursor", &odd)]
            ),
            "/audit?actor=system&cursor=a+b%26c"
        );
    }
}
