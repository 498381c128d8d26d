//! The audit log (admins).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::audit::get_audit;
use crate::components::empty_state::EmptyState;
use crate::model::AuditView;
use crate::pages::{PageHeader, loaded};

/// `/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_audit());
    view! {
        <Title text="Audit log" />
        <PageHeader title="Audit log" subtitle="Every change, who made it and from where; tamper-evident." />
        {loaded(data, 3, |view| view! { <AuditTable view /> })}
    }
}

#[component]
fn AuditTable(view: AuditView) -> impl IntoView {
    let status = if view.intact {
        view! { <p class="chain chain-ok" data-testid="audit-intact">"✓ Hash chain verified: no entry was changed or removed."</p> }.into_any()
    } else {
        view! { <p class="chain chain-broken" role="alert">"✗ The hash chain is broken: the log was tampered with."</p> }.into_any()
    };
    if view.entries.is_empty() {
        return view! {
            {status}
            <EmptyState title="Nothing recorded yet" message="Sign-ins and every change to providers, settings, users, keys and credits appear here." />
        }
            .into_any();
    }
    view! {
        {status}
        <div class="card table-card">
            <div class="table-scroll">
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
                        {view
                            .entries
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <tr>
                                        <td class="num">{e.seq}</td>
                                        <td>{e.when}</td>
                                        <td>{e.actor}</td>
                                        <td><code>{e.action}</code></td>
                                        <td>{e.target}</td>
                                        <td>{e.ip}</td>
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
