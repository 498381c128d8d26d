# Fleetdeck — the two commands for a fresh machine are `make run` and `make test`.
#
# No cargo-leptos: it takes ~27 minutes to install on two cores and only runs the steps below
# (cargo build for the server and the wasm bundle, wasm-bindgen, wasm-opt, copying assets).
# Every install step is idempotent and skipped when the right version is already present.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Site layout comes from Leptos.toml, the same file the server compiles in.
leptos_key = $(shell sed -n 's/^$(1) *= *"\(.*\)"/\1/p' Leptos.toml)
OUTPUT_NAME := $(call leptos_key,output-name)
SITE_ROOT := $(call leptos_key,site-root)
PKG_DIR := $(SITE_ROOT)/$(call leptos_key,site-pkg-dir)

# The wasm-bindgen CLI must equal the wasm-bindgen crate version pinned in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
WASM_TARGET := wasm32-unknown-unknown
WASM_OUT := target/$(WASM_TARGET)/wasm-release/frontend.wasm
SPLIT_DIR := target/wasm-split
# wasm-opt from npm (binaryen 132): Debian's older wasm-opt corrupts wasm-bindgen's output.
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
	--enable-mutable-globals --enable-reference-types --enable-multivalue

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
CARGO := cargo

.PHONY: help run build test bench tools test-tools rust-target wasm-bindgen-cli wasm-split node-modules lighthouse-tools \
	server-bin wasm site lint fmt-check clippy unit e2e clean

help:
	@echo "make run    install what is missing, build, serve on http://127.0.0.1:3000"
	@echo "make test   everything CI checks (format, lints, tests on SQLite and Postgres, browser tests)"
	@echo "make build  release binary target/release/fleetdeck and its site in $(SITE_ROOT)"
	@echo "make bench  benchmarks"

## ---------------------------------------------------------------- tools

tools: rust-target wasm-bindgen-cli wasm-split node-modules

rust-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

wasm-bindgen-cli:
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (a few minutes, once)"; \
		$(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; \
	fi

# Cuts the wasm at the lazy routes (tools/wasm-split, a thin command over the library
# cargo-leptos uses for `--split`); reinstalled when its version in Cargo.toml changes.
WASM_SPLIT_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' tools/wasm-split/Cargo.toml)
wasm-split:
	@if [ "$$(fleetdeck-wasm-split --version 2>/dev/null)" != "fleetdeck-wasm-split $(WASM_SPLIT_VERSION)" ]; then \
		echo "installing fleetdeck-wasm-split $(WASM_SPLIT_VERSION) (about a minute, once)"; \
		$(CARGO) install --locked --force --path tools/wasm-split; \
	fi

node-modules: node_modules/.package-lock.json

# Lighthouse (for `make bench` only: `make test` never installs it).
lighthouse-tools: scripts/lighthouse/node_modules/.package-lock.json

scripts/lighthouse/node_modules/.package-lock.json: scripts/lighthouse/package.json scripts/lighthouse/package-lock.json
	cd scripts/lighthouse && npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Browser tests need Debian's Chromium (never a downloaded browser) and sqlite3 to read the
# database the app writes.
test-tools:
	@if ! command -v chromium >/dev/null || ! command -v sqlite3 >/dev/null; then \
		echo "installing chromium and sqlite3 from Debian"; \
		$(SUDO) apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium sqlite3 >/dev/null; \
	fi

## ---------------------------------------------------------------- build

build: tools server-bin wasm
	@$(MAKE) --no-print-directory site

server-bin:
	$(CARGO) build --locked --release -p server

# `--emit-relocs` lets the split step move each lazy route's code into its own chunk.
wasm:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Clink-args=--emit-relocs" \
		$(CARGO) build --locked --profile wasm-release -p frontend --target $(WASM_TARGET)

# File rules: wasm-bindgen and wasm-opt rerun only when the wasm changed.
site: $(PKG_DIR)/assets.json $(SITE_ROOT)/favicon.svg

# Content-hashed copies with their brotli and gzip compressions, named in assets.json (the
# server links them and lets browsers cache them for a year): scripts/site.mjs.
$(PKG_DIR)/assets.json: $(PKG_DIR)/$(OUTPUT_NAME)_bg.wasm $(PKG_DIR)/$(OUTPUT_NAME).css.gz $(SITE_ROOT)/echarts.min.js.gz scripts/site.mjs
	node scripts/site.mjs $(SITE_ROOT) $(OUTPUT_NAME) $(SPLIT_DIR)

# Split first (the main module, the lazy routes' chunks, their loader and manifest land in
# $(SPLIT_DIR)), then wasm-bindgen finishes the main module (keeping the exports the chunks
# link against), then wasm-opt shrinks every module. site.mjs hashes and publishes them.
$(PKG_DIR)/$(OUTPUT_NAME)_bg.wasm: $(WASM_OUT)
	@rm -rf $(SPLIT_DIR) && mkdir -p $(SPLIT_DIR) $(PKG_DIR)
	fleetdeck-wasm-split $(WASM_OUT) $(SPLIT_DIR) $(SPLIT_DIR)/main.wasm $(OUTPUT_NAME)
	wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
		--out-dir $(PKG_DIR) --out-name $(OUTPUT_NAME) $(SPLIT_DIR)/main.wasm
	@rm $(SPLIT_DIR)/main.wasm
	wasm-opt $(WASM_OPT_FLAGS) $@ -o $@
	@for chunk in $(SPLIT_DIR)/*.wasm; do wasm-opt $(WASM_OPT_FLAGS) "$$chunk" -o "$$chunk"; done

$(PKG_DIR)/$(OUTPUT_NAME).css.gz: style/main.css
	@mkdir -p $(PKG_DIR)
	cp style/main.css $(PKG_DIR)/$(OUTPUT_NAME).css
	gzip -9 -k -f $(PKG_DIR)/$(OUTPUT_NAME).css

$(SITE_ROOT)/echarts.min.js.gz: node_modules/.package-lock.json
	@mkdir -p $(SITE_ROOT)
	cp node_modules/echarts/dist/echarts.min.js $(SITE_ROOT)/echarts.min.js
	gzip -9 -k -f $(SITE_ROOT)/echarts.min.js

$(SITE_ROOT)/favicon.svg: assets/favicon.svg
	@mkdir -p $(SITE_ROOT)
	cp -r assets/. $(SITE_ROOT)/

## ---------------------------------------------------------------- run

run: build
	@echo
	@echo "  Fleetdeck is starting on http://127.0.0.1:3000 (data in ./data, Ctrl-C to stop)."
	@echo "  To sign in: on the first visit the one-time setup page creates the admin account."
	@echo "  Or create users from a terminal:"
	@echo "    ./target/release/fleetdeck user create --email you@example.com --password '…' --role admin"
	@echo "  The first start also creates a default workspace with five agents on the offline simulator."
	@echo
	FLEETDECK_LOG_FORMAT=pretty ./target/release/fleetdeck serve

## ---------------------------------------------------------------- test

# The browser tests drive the test profile's binary, which `unit` has just built: a release build
# of the server would cost CI a quarter of an hour for no test it makes stronger. `make build`
# still makes the release binary, and `make e2e` alone runs against it.
test: tools test-tools lint unit wasm
	@$(MAKE) --no-print-directory site
	@$(MAKE) --no-print-directory e2e FLEETDECK_BIN=target/debug/fleetdeck

lint: fmt-check clippy

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --locked -p engine -p app -p server -p wire --features app/ssr --all-targets -- -D warnings
	$(CARGO) clippy --locked -p frontend -p app --features app/hydrate --target $(WASM_TARGET) -- -D warnings

# Store tests run on SQLite and on Postgres (127.0.0.1:5432); with CI=true an unreachable
# Postgres fails them.
unit:
	$(CARGO) test --locked -p engine -p app -p server -p wire --features app/ssr

e2e: test-tools node-modules
	FLEETDECK_BIN=$(or $(FLEETDECK_BIN),target/release/fleetdeck) node end2end/run.mjs

## ---------------------------------------------------------------- bench

bench: tools wasm lighthouse-tools
	@$(MAKE) --no-print-directory site
	node scripts/site.mjs --sizes $(SITE_ROOT) $(OUTPUT_NAME)
	$(CARGO) build --locked --release -p server
	node scripts/lighthouse/run.mjs target/release/fleetdeck
	$(CARGO) bench --locked -p engine --bench store --bench runner --bench analytics
	$(CARGO) bench --locked -p server --features app/ssr --bench fanout --bench api --bench gateway --bench scale

clean:
	$(CARGO) clean
	rm -rf node_modules
