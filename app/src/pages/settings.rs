//! Settings: workspace defaults and the price table.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::settings::get_settings;
use crate::model::SettingsView;
use crate::pages::{PageHeader, loaded};

/// `/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_settings());
    view! {
        <Title text="Settings" />
        <PageHeader title="Settings" subtitle="Workspace defaults and model prices." />
        {loaded(data, 2, |view| view! { <Settings view /> })}
    }
}

#[component]
fn Settings(view: SettingsView) -> impl IntoView {
    let not_set = || "Not set".to_owned();
    view! {
        <section class="card">
            <h2>"Defaults"</h2>
            <p class="muted">"Used by agents and runs that do not choose their own."</p>
            <dl class="settings-list">
                <div>
                    <dt>"Provider"</dt>
                    <dd data-testid="default-provider">
                        {view.default_provider.unwrap_or_else(not_set)}
                        {view
                            .default_provider_simulated
                            .then(|| {
                                view! {
                                    <span
                                        class="badge badge-sim"
                                        title="The built-in offline simulator"
                                    >
                                        "Simulated"
                                    </span>
                                }
                            })}
                    </dd>
                </div>
                <div>
                    <dt>"Model"</dt>
                    <dd>{view.default_model.unwrap_or_else(not_set)}</dd>
                </div>
                <div>
                    <dt>"Temperature"</dt>
                    <dd>
                        {view
                            .default_temperature
                            .map(|t| format!("{t:.1}"))
                            .unwrap_or_else(not_set)}
                    </dd>
                </div>
            </dl>
        </section>
        <section class="card table-card">
            <h2>"Prices per million tokens"</h2>
            <div class="table-scroll">
                <table data-testid="price-table">
                    <thead>
                        <tr>
                            <th scope="col">"Provider"</th>
                            <th scope="col">"Model"</th>
                            <th scope="col" class="num">"Input"</th>
                            <th scope="col" class="num">"Cached input"</th>
                            <th scope="col" class="num">"Output"</th>
                            <th scope="col" class="num">"Context"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .prices
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <tr>
                                        <td>{p.provider}</td>
                                        <td>{p.model}</td>
                                        <td class="num">{p.input}</td>
                                        <td class="num">{p.cached_input}</td>
                                        <td class="num">{p.output}</td>
                                        <td class="num">{p.context_window}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
