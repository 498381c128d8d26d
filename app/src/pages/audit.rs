//! The audit log (admins).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::audit::get_audit;
use crate::components::empty_state::EmptyState;
use crate::pages::{PageHeader, loaded};
use wire::Page;
use wire::audit::{AuditCheck, Entry};
use wire::format::timestamp;

/// `/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_audit(None));
    view! {
        <Title text="Audit log" />
        <PageHeader title="Audit log" subtitle="Every change, who made it and from where; tamper-evident." />
        {loaded(data, 3, |(page, check)| view! { <AuditTable page check /> })}
    }
}

#[component]
fn AuditTable(page: Page<Entry>, check: AuditCheck) -> impl IntoView {
    let status = if check.intact {
        view! { <p class="chain chain-ok" data-testid="audit-intact">"✓ Hash chain verified: no entry was changed or removed."</p> }.into_any()
    } else {
        view! { <p class="chain chain-broken" role="alert">"✗ The hash chain is broken: the log was tampered with."</p> }.into_any()
    };
    if page.items.is_empty() {
        return view! {
            {status}
            <EmptyState title="Nothing recorded yet" message="Sign-ins and every change to providers, settings, users, keys and credits appear here." />
        }
            .into_any();
    }
    view! {
        {status}
        <div class="card table-card">
            <div class="table-scroll" tabindex="0">
                <table data-testid="audit-table">
                    <thead>
                        <tr>
                            <th scope="col" class="num">"#"</th>
                            <th scope="col">"When"</th>
                            <th scope="col">"Who"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col">"Target"</th>
                            <th scope="col">"IP"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page
                            .items
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <tr>
                                        <td class="num">{e.seq}</td>
                                        <td>{timestamp(e.created_at)}</td>
                                        <td>{e.actor}</td>
                                        <td><code>{e.action}</code></td>
                                        <td>{e.target}</td>
                                        <td>{e.ip.unwrap_or_default()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
    }
    .into_any()
}
