// The calls explorer at scale: 100,000 recorded calls scroll a page at a time, newest first,
// none skipped or doubled; the outcome filter (a form, in the URL) holds for the pages after
// the first; the page fits 375 px. Run by run.mjs, which passes its helpers.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BULK = 100_000;

export async function callScaleJourneys({ test, newPage, hydrated, sql, assert, shots }) {
  await test('the calls explorer scrolls through 100,000 calls, newest first, filtered from the URL', async () => {
    const ws = sql("SELECT workspace_id FROM agents WHERE name = 'Planner'");
    const lines = ['BEGIN;'];
    // An hour ahead, a second apart: newer than every call the other journeys made.
    const newest = Date.now() + 3_600_000;
    for (let i = 1; i <= BULK; i++) {
      const failed = i % 10 === 0;
      lines.push(`INSERT INTO llm_calls (id, workspace_id, provider_kind, model, prompt_tokens, completion_tokens, cost_micros, latency_ms, success, error_class, attempt, created_at, role, workflow) VALUES ('bulk-call-${String(i).padStart(6, '0')}', '${ws}', 'simulator', '${i % 2 ? 'sim-fast' : 'sim-standard'}', 800, 200, 1600, 900, ${failed ? 0 : 1}, ${failed ? "'rate_limited'" : 'NULL'}, 1, ${newest - (BULK - i) * 1000}, 'BUILDER', 'standard');`);
    }
    lines.push('COMMIT;');
    const dir = mkdtempSync(join(tmpdir(), 'fleetdeck-calls-'));
    writeFileSync(join(dir, 'bulk.sql'), lines.join('\n'));
    sql(`.read ${join(dir, 'bulk.sql')}`);
    rmSync(dir, { recursive: true });
    const rows = '[data-testid="call-table"] tbody tr';
    // Each row's full time (its first cell's title): newest first means strictly descending.
    const times = (page) => page.$$eval(`${rows} td:first-child`, (tds) => tds.map((td) => td.getAttribute('title')));
    const descending = (list) => list.every((t, i) => i === 0 || list[i - 1] > t);
    try {
      const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
      await hydrated(page, '/calls');
      let shown = await times(page);
      assert(shown.length === 50, `the first page holds 50 calls (${shown.length})`);
      for (let loaded = 1; loaded <= 3; loaded++) {
        await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
        await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length >= n, [rows, 50 + loaded * 50], { timeout: 15_000 });
      }
      await page.waitForSelector('[data-testid="list-count"] >> text=150 older calls loaded');
      shown = await times(page);
      assert(shown.length === 200 && descending(shown), 'newest first, none skipped or doubled');
      assert(!page.url().includes('cursor'), `scrolling keeps the address: ${page.url()}`);
      await page.screenshot({ path: join(shots, 'calls-100k-1440.png') });

      // Only the failed ones: the form's filter is in the URL and holds as the list scrolls.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.selectOption('[data-testid="filter-outcome"]', 'failed');
      await page.click('[data-testid="apply-filters"]');
      await page.waitForURL(/outcome=failed/);
      await page.waitForSelector('body[data-hydrated="true"]');
      const allFailed = () => page.$$eval(`${rows} td:nth-child(5)`, (tds) => tds.length > 0 && tds.every((td) => td.textContent.startsWith('failed')));
      assert(await allFailed(), 'only failed calls');
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 100, rows, { timeout: 15_000 });
      assert(await allFailed(), 'the older pages keep the filter');
      shown = await times(page);
      assert(descending(shown), 'still newest first');
      await context.close();

      const phone = await newPage({ viewport: { width: 375, height: 812 } });
      await hydrated(phone.page, '/calls?outcome=failed');
      await phone.page.waitForSelector(rows);
      await phone.page.screenshot({ path: join(shots, 'calls-100k-375.png') });
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `the page fits 375 px (${overflow} px too wide)`);
      await phone.context.close();
    } finally {
      sql("DELETE FROM llm_calls WHERE id LIKE 'bulk-call-%'");
    }
  });
}
