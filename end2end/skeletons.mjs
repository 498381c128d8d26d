// Loading states page by page, at 1440 and 375 px. How Fleetdeck loads a page: the server
// renders it with its data (a route's view is awaited whole, so no skeleton is streamed); a
// move between pages in the app keeps the page shown, with the progress bar across the top,
// until the next page's data is there, then swaps it in whole; a part that loads within a page
// (an agent opened for editing, a diff, a comparison) shows a skeleton of its own shape there.
// So here:
// - every page loaded from its address settles with a cumulative layout shift under 0.02 (0.1
//   is "good"), with no skeleton left, photographed;
// - going through every page in the app with each server function answering 0.8 s late, the
//   page shown stays whole (never a skeleton, never half a page) while the progress bar runs,
//   and the next page arrives without shifting;
// - opening an agent for editing with a late answer shows a panel skeleton where the editor
//   then stands, as wide.
// Run by run.mjs, which passes its helpers.

import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// While the switch it returns is on, the page's server functions (POSTs under /api) answer
// `ms` late.
async function lateAnswers(page, ms) {
  const late = { on: false };
  await page.route('**/api/**', async (route) => {
    if (late.on && route.request().method() === 'POST') await sleep(ms);
    return route.continue().catch(() => {});
  });
  return late;
}

export async function skeletonJourneys({ test, newPage, sql, assert, base, shots }) {
  const task = () => sql("SELECT id FROM tasks WHERE status = 'completed' ORDER BY created_at DESC LIMIT 1");
  const agent = () => sql("SELECT id FROM agents WHERE name = 'Reviewer'");
  const trace = () => sql('SELECT trace_id FROM otel_traces LIMIT 1');
  const allPages = () => [
    ['/', 'dashboard'], ['/agents', 'agents'], [`/agents/${agent()}/versions`, 'versions'],
    [`/agents/${agent()}/personas`, 'personas'], ['/studio', 'studio'], ['/tasks', 'tasks'],
    [`/tasks/${task()}`, 'task'], ['/analytics', 'analytics'], ['/analytics/trends', 'trends'],
    ['/analytics/roi', 'roi'], ['/calls', 'calls'], ['/traces', 'traces'], [`/traces/${trace()}`, 'trace'],
    ['/budgets', 'budgets'], ['/alerts', 'alerts'], ['/alerts/rules', 'alert-rules'],
    ['/settings', 'settings'], ['/audit', 'audit'], ['/system', 'health'],
  ];
  // Every page when the whole suite ran before (its tasks and traces exist); a journey run
  // alone (FLEETDECK_E2E_ONLY) skips the pages of records it has not made.
  const pages = () => {
    const all = allPages();
    const shown = all.filter(([path]) => path === '/' || (!path.includes('//') && !path.endsWith('/')));
    assert(shown.length === all.length || process.env.FLEETDECK_E2E_ONLY,
      `only ${shown.length} of ${all.length} pages have records to show`);
    return shown;
  };
  // Layout shifts from the first paint on, as Lighthouse counts them (none after input);
  // `window.__shift = 0` starts a new count.
  const countShifts = async (page) => page.addInitScript(() => {
    window.__shift = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        window.__shift += e.value;
        // What moved, for a failure to say.
        (window.__moved ||= []).push(...e.sources.map((s) => {
          const what = s.node?.nodeType === 1 ? `${s.node.tagName.toLowerCase()}.${[...s.node.classList].join('.')}` : s.node?.parentElement?.tagName.toLowerCase() ?? '?';
          return `at ${e.startTime.toFixed(0)} ms ${what} moved ${Math.round(s.currentRect.x - s.previousRect.x)},${Math.round(s.currentRect.y - s.previousRect.y)} px`;
        }));
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });

  await test('every page loads without a layout shift or a skeleton left behind (1440 and 375 px)', async () => {
    const found = [];
    for (const [width, height] of [[1440, 900], [375, 812]]) {
      const { context, page } = await newPage({ viewport: { width, height } });
      await countShifts(page);
      for (const [path, name] of pages()) {
        await page.goto(`${base}${path}`);
        await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
        await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
        await page.waitForTimeout(500);
        const { shift, skeleton } = await page.evaluate(() => ({
          shift: window.__shift, skeleton: !!document.querySelector('[data-testid="skeleton"]'),
        }));
        if (shift > 0.02) found.push(`${width}px ${path}: layout shift ${shift.toFixed(3)}`, ...(await page.evaluate(() => window.__moved || [])).map((m) => `  ${m}`));
        if (skeleton) found.push(`${width}px ${path}: a skeleton is left after loading`);
        await page.screenshot({ path: join(shots, `page-${name}-${width}.png`) });
      }
      await context.close();
    }
    assert(found.length === 0, `loading:\n     ${found.join('\n     ')}`);
  });

  await test('moving between pages keeps the page whole until the next one is ready, then swaps it without a shift', async () => {
    const found = [];
    for (const [width, height] of [[1440, 900], [375, 812]]) {
      const { context, page } = await newPage({ viewport: { width, height } });
      await countShifts(page);
      const late = await lateAnswers(page, 800);
      await page.goto(`${base}/system`);
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
      await page.evaluate(() => { window.__sameDocument = true; });
      let from = '/system';
      for (const [path] of pages()) {
        late.on = true;
        const heading = await page.textContent('h1');
        await page.evaluate(() => { window.__shift = 0; window.__moved = []; });
        // The app's own navigation, as a click on a link (the router takes it; no reload).
        await page.evaluate((href) => {
          const a = document.createElement('a');
          a.href = href;
          document.body.appendChild(a);
          a.click();
          a.remove();
        }, path);
        // Half-way through the wait: still the page it came from, whole, the bar running.
        await page.waitForTimeout(400);
        const during = await page.evaluate(() => ({
          heading: document.querySelector('h1')?.textContent,
          skeleton: !!document.querySelector('[data-testid="skeleton"]'),
          busy: !!document.querySelector('.route-progress.active'),
        }));
        if (during.skeleton) found.push(`${width}px ${from} → ${path}: a skeleton while the next page loads`);
        if (!during.busy) found.push(`${width}px ${from} → ${path}: no progress bar while the next page loads`);
        if (during.heading !== heading) found.push(`${width}px ${from} → ${path}: the page changed before its data came ("${during.heading}")`);
        late.on = false;
        await page.waitForURL((url) => url.pathname === path);
        await page.waitForFunction(() => !document.querySelector('.route-progress.active'), null, { timeout: 15_000 });
        await page.waitForTimeout(300);
        const after = await page.evaluate(() => ({
          shift: window.__shift, moved: window.__moved || [], skeleton: !!document.querySelector('[data-testid="skeleton"]'),
        }));
        if (after.skeleton) found.push(`${width}px ${path}: a skeleton left after the page came`);
        if (after.shift > 0.02) found.push(`${width}px ${from} → ${path}: layout shift ${after.shift.toFixed(3)}`, ...after.moved.map((m) => `  ${m}`));
        from = path;
      }
      assert(await page.evaluate(() => window.__sameDocument === true), 'a navigation reloaded the page');
      await context.close();
    }
    assert(found.length === 0, `moving between pages:\n     ${found.join('\n     ')}`);
  });

  await test('an agent opened for editing shows a skeleton of the editor where the editor comes (1440 and 375 px)', async () => {
    for (const [width, height] of [[1440, 900], [375, 812]]) {
      const { context, page } = await newPage({ viewport: { width, height } });
      const late = await lateAnswers(page, 1500);
      await page.goto(`${base}/agents`);
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
      late.on = true;
      // The last card's Edit: on a phone, far below the editor's place.
      await page.locator('[data-testid="edit-agent"]').last().click();
      const skeleton = await page.waitForSelector('[data-testid="skeleton"]', { timeout: 5000 });
      const before = await skeleton.evaluate((el) => {
        const box = el.getBoundingClientRect();
        el.previousElementSibling?.setAttribute('data-before-skeleton', '');
        return {
          top: box.top + scrollY, left: box.left, width: box.width, height: box.height,
          shapes: [...el.querySelectorAll('[data-shape]')].map((p) => p.dataset.shape),
        };
      });
      assert(before.shapes.join() === 'panels', `the editor's skeleton is ${before.shapes.join('+')}`);
      assert(before.height >= 200, `the editor's skeleton is ${before.height} px high`);
      await page.screenshot({ path: join(shots, `skeleton-agent-editor-${width}.png`) });
      late.on = false;
      await page.waitForSelector('.agent-editor');
      const editor = await page.evaluate(() => {
        const box = document.querySelector('.agent-editor').getBoundingClientRect();
        const prev = document.querySelector('[data-before-skeleton]');
        return {
          top: box.top + scrollY, left: box.left, width: box.width,
          follows: !prev || prev.nextElementSibling === document.querySelector('.agent-editor'),
        };
      });
      assert(editor.follows, 'the editor is not where its skeleton was');
      // Opened from a card further down, the editor is brought into view.
      await page.waitForTimeout(300);
      const seen = await page.evaluate(() => document.querySelector('.agent-editor').getBoundingClientRect().top);
      // Below the sticky top bar (56 px), not under it.
      assert(seen >= 56 && seen < height / 2, `the editor opened out of sight (its top at ${Math.round(seen)} px)`);
      await page.screenshot({ path: join(shots, `agent-editor-opened-${width}.png`) });
      assert(Math.abs(editor.top - before.top) <= 2 && Math.abs(editor.left - before.left) <= 2
        && Math.abs(editor.width - before.width) <= 2,
        `the editor is at ${editor.left},${editor.top} ${editor.width} px wide, its skeleton at ${before.left},${before.top} ${before.width} px`);
      await context.close();
    }
  });
}
