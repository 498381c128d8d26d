// The last step of `make site`: content-hashed copies of the files the pages load, each beside
// its brotli and gzip compressions, and `pkg/assets.json` naming them for the server.
//
// A hashed name changes whenever its content does, so the server can tell browsers to keep
// these files for a year (`Cache-Control: immutable`) and a new build is still picked up at
// once: the page names the new files. The compressions are made here, once, at the highest
// levels (too slow to do per request), and the server sends whichever the browser accepts.
//
// The wasm is cut at the lazy routes (the Makefile's split step): each page's chunk gets a
// hashed name too, and the two files that name chunks are rewritten to match — the chunks'
// loader (`__wasm_split.<underscores>.js`, a fixed name Leptos's hydration scripts preload, so
// it is revalidated on each use; it is a few KB) and the manifest of which chunks each group
// of pages needs (`split-manifest.json`, for `--sizes`).
//
// The manifest is deliberately not where Leptos looks for it (`__wasm_split_manifest.json`):
// there, the server would put a preload link for each of a page's chunks into its head.
// Lighthouse then counts those ~340 KB as competing with the page's first paint on its slow
// simulated link: performance 84 / 83 / 75 on /, /tasks, /analytics with the preloads against
// 86 / 93 / 86 without, in one run each. Without them the chunks load when hydration asks for
// them, just after the main module.
//
//   node scripts/site.mjs <site-root> <output-name> [<split-dir>]  build the hashed copies
//   node scripts/site.mjs --sizes <site-root> <output-name>       print the bundle's sizes (make bench)

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const sizesOnly = args[0] === '--sizes';
const [root, name, splitDir] = sizesOnly ? args.slice(1) : args;
if (!root || !name) {
  console.error('usage: node scripts/site.mjs [--sizes] <site-root> <output-name>');
  process.exit(2);
}
const pkg = join(root, 'pkg');

const brotli = (data) => brotliCompressSync(data, {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
    [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
  },
});
const gzip = (data) => gzipSync(data, { level: 9 });

if (sizesOnly) {
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  const show = (label, file, goal, before) => {
    if (!existsSync(file)) {
      console.log(`  ${label}: ${file} missing (run make build)`);
      return;
    }
    const data = readFileSync(file);
    const br = brotli(data).length;
    console.log(`  ${label}: ${kb(data.length)} raw, ${kb(gzip(data).length)} gzip, ${kb(br)} brotli` +
      `   goal: ${goal}   before issue 15: ${before}`);
  };
  console.log('page weight (what a first visit downloads besides the HTML)');
  show('wasm   ', join(pkg, `${name}_bg.wasm`), '<= 400 KB brotli', '2,140 KB raw, 795 KB gzip, 570 KB brotli');
  // The lazy routes' groups: what a first visit to one of their pages adds to the main module.
  const manifestPath = join(pkg, 'split-manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const mainBr = brotli(readFileSync(join(pkg, `${name}_bg.wasm`))).length;
    for (const [split, stems] of Object.entries(manifest).sort()) {
      const br = stems.reduce((sum, stem) => sum + brotli(readFileSync(join(pkg, `${stem}.wasm`))).length, 0);
      const group = split.replace(/_view_\d+$/, '');
      console.log(`    + ${group.padEnd(8)} pages: ${kb(br)} brotli in ${stems.length} chunks` +
        ` (a first visit to one: ${kb(mainBr + br)} with the main module)`);
    }
  }
  show('app js ', join(pkg, `${name}.js`), '-', '-');
  show('css    ', join(pkg, `${name}.css`), '-', '-');
  show('echarts', join(root, 'echarts.min.js'), 'only on pages with charts', '299 KB brotli on every page');
  process.exit(0);
}

const hash = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
};

// The files written by the earlier steps (wasm-bindgen and wasm-opt, the stylesheet, ECharts).
const js = readFileSync(join(pkg, `${name}.js`));
const wasm = readFileSync(join(pkg, `${name}_bg.wasm`));
const css = readFileSync(join(pkg, `${name}.css`));
const echarts = readFileSync(join(root, 'echarts.min.js'));

// The JS and the wasm are one unit (the JS binds that wasm's exports): one hash for both.
// Leptos's hydration script loads `<app>.js` and `<app>_bg.wasm`.
const app = `${name}.${hash(js, wasm)}`;
const assets = {
  app,
  css: `${name}.${hash(css)}.css`,
  echarts: `echarts.${hash(echarts)}.min.js`,
};
const files = new Map([
  [`${app}.js`, js],
  [`${app}_bg.wasm`, wasm],
  [assets.css, css],
  [assets.echarts, echarts],
]);

// The lazy routes' chunks, their loader and manifest, as the split step wrote them.
const LOADER = '__wasm_split.______________________.js';
const MANIFEST = '__wasm_split_manifest.json';
const PUBLISHED_MANIFEST = 'split-manifest.json';
let loader = null;
let manifest = null;
if (splitDir && existsSync(join(splitDir, LOADER))) {
  let loaderJs = readFileSync(join(splitDir, LOADER), 'utf8');
  const splitManifest = JSON.parse(readFileSync(join(splitDir, MANIFEST), 'utf8'));
  const renamed = new Map();
  for (const file of readdirSync(splitDir)) {
    if (!file.endsWith('.wasm')) continue;
    const stem = file.slice(0, -'.wasm'.length);
    const data = readFileSync(join(splitDir, file));
    const hashedStem = `${stem}.${hash(data)}`;
    renamed.set(stem, hashedStem);
    files.set(`${hashedStem}.wasm`, data);
    loaderJs = replaceOnce(loaderJs, `"./${stem}.wasm"`, `"./${hashedStem}.wasm"`);
  }
  // The loader takes the main module's exports from the very module the page loaded.
  loaderJs = replaceOnce(loaderJs, `from "./${name}.js"`, `from "./${app}.js"`);
  loader = loaderJs;
  manifest = Object.fromEntries(Object.entries(splitManifest).map(([split, stems]) => [
    split,
    stems.map((stem) => {
      if (!renamed.has(stem)) throw new Error(`${MANIFEST} names ${stem}, which the split step did not write`);
      return renamed.get(stem);
    }),
  ]));
}

function replaceOnce(text, from, to) {
  const at = text.indexOf(from);
  if (at < 0) throw new Error(`${LOADER}: expected ${from} in it`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

// Earlier builds' hashed files go: only what this build's pages name is served.
const hashed = /\.[0-9a-f]{16}(_bg)?\.(js|wasm|css|min\.js)(\.br|\.gz)?$/;
for (const file of readdirSync(pkg)) {
  const base = file.replace(/\.(br|gz)$/, '');
  if (hashed.test(file) && !files.has(base)) unlinkSync(join(pkg, file));
}
for (const [file, data] of files) {
  const path = join(pkg, file);
  if (existsSync(path) && existsSync(`${path}.br`) && existsSync(`${path}.gz`)) continue;
  writeFileSync(path, data);
  writeFileSync(`${path}.br`, brotli(data));
  writeFileSync(`${path}.gz`, gzip(data));
}
// The loader and manifest keep fixed names: written whenever they differ.
for (const [file, text] of [[LOADER, loader], [PUBLISHED_MANIFEST, manifest && `${JSON.stringify(manifest, null, 2)}\n`], [MANIFEST, null]]) {
  const path = join(pkg, file);
  if (text === null) {
    for (const f of [path, `${path}.br`, `${path}.gz`]) if (existsSync(f)) unlinkSync(f);
    continue;
  }
  const data = Buffer.from(text);
  writeFileSync(path, data);
  if (file === LOADER) {
    writeFileSync(`${path}.br`, brotli(data));
    writeFileSync(`${path}.gz`, gzip(data));
  }
}
writeFileSync(join(pkg, 'assets.json'), `${JSON.stringify(assets, null, 2)}\n`);
console.log(`site: ${Object.values(assets).join(', ')}`);
