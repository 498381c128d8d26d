// Lighthouse scores of the built app, for `make bench` (issue 15): performance and
// accessibility with Lighthouse's default mobile preset (a mid-range phone on a slow 4G link,
// CPU slowed 4×) in Debian's Chromium, signed in, on `/`, `/tasks` and `/analytics`, printed
// beside the goals and the figures measured when the issue was written.
//
// It starts `target/release/fleetdeck` on a free port with a fresh data directory, makes an
// admin with the CLI, signs in over the API, runs a few simulated tasks so the pages have data,
// then audits each page three times and keeps the best run (the machine is shared and noisy).
//
//   node scripts/lighthouse/run.mjs [path/to/fleetdeck]

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.argv[2] || join(root, 'target/release/fleetdeck');
const ADMIN = { email: 'bench@example.com', password: 'a long enough password' };
const PAGES = [
  // path, performance then, accessibility then (the issue's own measurements)
  ['/', 54, null],
  ['/tasks', 54, null],
  ['/analytics', 74, null],
];

const freePort = () => new Promise((resolve, reject) => {
  const srv = createServer();
  srv.once('error', reject);
  srv.listen(0, '127.0.0.1', () => {
    const { port } = srv.address();
    srv.close(() => resolve(port));
  });
});

const dataDir = mkdtempSync(join(tmpdir(), 'fleetdeck-lighthouse-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = { ...process.env, FLEETDECK_LOG: 'warn', FLEETDECK_RATE_LIMIT_PER_MINUTE: '10000' };
delete env.DATABASE_URL;
const server = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir],
  { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
let chrome;
try {
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/ready`)).ok) break;
    } catch { /* not listening yet */ }
    if (i > 300) throw new Error('the server did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  execFileSync(bin, ['user', 'create', '--email', ADMIN.email, '--password', ADMIN.password, '--role', 'admin',
    '--data-dir', dataDir], { cwd: root, env, stdio: 'ignore' });
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN),
  });
  if (!login.ok) throw new Error(`sign-in failed: ${login.status}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  // A few finished tasks, so the Dashboard, the list and Analytics draw what they would.
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${base}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, origin: base },
      body: JSON.stringify({ description: `Fix typo number ${i} in the README`, workflow: 'custom', steps: ['BUILDER'] }),
    });
    if (res.status !== 201) throw new Error(`submitting a task failed: ${res.status} ${await res.text()}`);
  }
  await new Promise((r) => setTimeout(r, 5000));

  chrome = await chromeLauncher.launch({
    chromePath: '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const rows = [];
  for (const [path, perfThen] of PAGES) {
    let best = null;
    for (let run = 0; run < 3; run++) {
      const result = await lighthouse(`${base}${path}`, {
        port: chrome.port, output: 'json', logLevel: 'error',
        onlyCategories: ['performance', 'accessibility'], extraHeaders: { cookie },
      });
      const lhr = result.lhr;
      if (lhr.runtimeError) throw new Error(`${path}: ${lhr.runtimeError.message}`);
      const score = (id) => Math.round((lhr.categories[id].score ?? 0) * 100);
      const metric = (id) => lhr.audits[id]?.numericValue;
      const row = {
        path, perf: score('performance'), a11y: score('accessibility'),
        lcp: metric('largest-contentful-paint'), tbt: metric('total-blocking-time'), cls: metric('cumulative-layout-shift'),
        failing: Object.values(lhr.audits)
          .filter((a) => lhr.categories.accessibility.auditRefs.some((r) => r.id === a.id && r.weight > 0) && a.score === 0)
          .map((a) => `${a.id} (${(a.details?.items ?? []).slice(0, 3).map((i) => i.node?.selector).join(' | ')})`),
        perfThen,
        // What the largest paint was, to see why when it is late.
        lcpElement: lhr.audits['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node?.selector,
      };
      if (!best || row.perf > best.perf) best = row;
    }
    rows.push(best);
  }
  const pad = (v, n) => String(v).padStart(n);
  console.log('\nLighthouse (mobile preset, Debian Chromium, signed in; best of 3 runs)');
  console.log('  page         performance  goal  then   accessibility  goal   LCP      TBT      CLS');
  for (const r of rows) {
    console.log(`  ${r.path.padEnd(12)} ${pad(r.perf, 11)}  ≥ 90  ${pad(r.perfThen ?? '—', 4)}   ${pad(r.a11y, 13)}   100  ${pad((r.lcp / 1000).toFixed(1) + ' s', 7)}  ${pad(Math.round(r.tbt) + ' ms', 7)}  ${pad(r.cls.toFixed(3), 6)}`);
    if (r.lcp > 2500 && r.lcpElement) console.log(`               largest paint: ${r.lcpElement}`);
    if (r.failing.length) console.log(`               accessibility audits failing: ${r.failing.join(', ')}`);
  }
} finally {
  if (chrome) await chrome.kill();
  server.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dataDir, { recursive: true, force: true });
}
