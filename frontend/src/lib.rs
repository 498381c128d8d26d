//! The WebAssembly entry point: hydrates the server-rendered page into the live app.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script Leptos puts in the page.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes: the page's chunk is fetched before the page hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
