//! `fleetdeck-wasm-split <input.wasm> <pkg-dir> <main-out.wasm> <output-name>`
//!
//! Splits the wasm cargo built (linked with `--emit-relocs`) at the split points Leptos's
//! `#[lazy]` and `#[lazy_route]` left in it, the way `cargo leptos build --split` does:
//!
//! - `<main-out.wasm>`: the main module, for wasm-bindgen (`--keep-lld-exports`) to finish;
//! - `<pkg-dir>/*.wasm`: the chunks, fetched by the page when a lazy route first shows;
//! - `<pkg-dir>/__wasm_split.______________________.js`: their loader, which the main module
//!   imports under that name (Leptos's hydration scripts preload it by that name too);
//! - `<pkg-dir>/__wasm_split_manifest.json`: which chunks each split point needs.
//!
//! `scripts/site.mjs` then gives the chunks content-hashed names and rewrites both files.

use std::path::PathBuf;
use std::process::ExitCode;

/// The loader's name: the one Leptos's `HydrationScripts` preloads when file hashing is off.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `make tools` compares this with tools/wasm-split/Cargo.toml to know when to reinstall.
    if args.first().map(String::as_str) == Some("--version") {
        println!("fleetdeck-wasm-split {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let [input, pkg_dir, main_out, output_name] = args.as_slice() else {
        eprintln!(
            "usage: fleetdeck-wasm-split <input.wasm> <pkg-dir> <main-out.wasm> <output-name>"
        );
        return ExitCode::from(2);
    };
    match run(input, pkg_dir, main_out, output_name) {
        Ok(chunks) => {
            println!("wasm-split: {chunks} chunks");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("wasm-split: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &str, pkg_dir: &str, main_out: &str, output_name: &str) -> Result<usize, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("reading {input}: {e}"))?;
    let pkg_dir = PathBuf::from(pkg_dir);
    let main_out = PathBuf::from(main_out);
    let main_module = format!("./{output_name}.js");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&wasm);
        options.output_dir = &pkg_dir;
        options.main_out_path = &main_out;
        options.main_module = &main_module;
        options.link_name = LINK_NAME;
        options
    })
    .map_err(|e| format!("{e:#}"))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map).map_err(|e| e.to_string())?;
    let manifest_path = pkg_dir.join("__wasm_split_manifest.json");
    std::fs::write(&manifest_path, manifest)
        .map_err(|e| format!("writing {}: {e}", manifest_path.display()))?;
    Ok(split.split_modules.len())
}
