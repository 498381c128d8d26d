//! Where the page's files are: the content-hashed names `make site` gave them
//! (`scripts/site.mjs` writes `pkg/assets.json`), so that the server can let browsers keep
//! them for a year and a new build is still fetched at once. Without that file (a site built
//! by hand, the API tests' missing site) the plain names are linked and revalidated on each
//! visit instead.

use std::sync::OnceLock;

use leptos::config::LeptosOptions;
use serde::Deserialize;

/// The names in `pkg/assets.json`.
#[derive(Debug, Clone, Deserialize)]
struct Manifest {
    /// The stem of the hydration script and its wasm (`<app>.js`, `<app>_bg.wasm`).
    app: String,
    /// The stylesheet's file name.
    css: String,
    /// ECharts' file name.
    echarts: String,
}

/// The page's files, as the shell links them.
#[derive(Debug, Clone)]
pub struct Assets {
    /// What Leptos's hydration scripts take as the output name.
    pub app: String,
    /// The stylesheet's URL.
    pub css: String,
    /// ECharts' URL (loaded by the first chart a page draws, never by a page without one).
    pub echarts: String,
}

/// Read once per process: a deployment changes its files by restarting on the new build.
pub fn assets(options: &LeptosOptions) -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let pkg = format!("/{}", options.site_pkg_dir);
        let path = std::path::Path::new(&*options.site_root)
            .join(&*options.site_pkg_dir)
            .join("assets.json");
        let manifest = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok());
        match manifest {
            Some(m) => Assets {
                app: m.app,
                css: format!("{pkg}/{}", m.css),
                echarts: format!("{pkg}/{}", m.echarts),
            },
            None => Assets {
                app: options.output_name.to_string(),
                css: format!("{pkg}/{}.css", options.output_name),
                echarts: "/echarts.min.js".to_owned(),
            },
        }
    })
}
