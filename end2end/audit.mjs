// The audit log at scale: 100,000 entries (a valid hash chain, computed here the way the
// engine does) scroll a page at a time in order, the chain check runs beside the list without
// holding it up, and the actor and action filters live in the URL (from the form, from a
// click on an entry, and reloaded from the address). Run by run.mjs, which passes its helpers.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BULK = 100_000;

export async function auditJourneys({ test, newPage, hydrated, sql, assert, shots }) {
  await test('the audit log scrolls through 100,000 entries, filtered from the URL, its chain verified', async () => {
    const ws = sql('SELECT workspace_id FROM audit_heads LIMIT 1');
    const [headSeq, headHash] = sql(`SELECT seq || '|' || hash FROM audit_heads WHERE workspace_id = '${ws}'`).split('|');
    const start = Number(headSeq);
    // The entries continue the chain from its head: each hash covers the previous one and the
    // entry's fields as a JSON array (engine::store::audit::entry_hash).
    const lines = ['BEGIN;'];
    let prev = headHash;
    const now = Date.now();
    for (let i = 1; i <= BULK; i++) {
      const seq = start + i;
      const id = `bulk-audit-${String(i).padStart(6, '0')}`;
      const [actor, action] = i % 2 ? ['ops@example.com', 'bulk.odd'] : ['system', 'bulk.even'];
      const target = `item:${i}`;
      const createdAt = now - (BULK - i) * 1000;
      const hash = createHash('sha256')
        .update(JSON.stringify([prev, seq, id, null, actor, action, target, null, null, '{}', createdAt]))
        .digest('hex');
      lines.push(`INSERT INTO audit_log (workspace_id, seq, id, actor_user_id, actor, action, target, ip, user_agent, details, created_at, prev_hash, hash) VALUES ('${ws}', ${seq}, '${id}', NULL, '${actor}', '${action}', '${target}', NULL, NULL, '{}', ${createdAt}, '${prev}', '${hash}');`);
      prev = hash;
    }
    lines.push(`UPDATE audit_heads SET seq = ${start + BULK}, hash = '${prev}' WHERE workspace_id = '${ws}';`, 'COMMIT;');
    const dir = mkdtempSync(join(tmpdir(), 'fleetdeck-audit-'));
    writeFileSync(join(dir, 'bulk.sql'), lines.join('\n'));
    sql(`.read ${join(dir, 'bulk.sql')}`);
    rmSync(dir, { recursive: true });
    try {
      const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
      await hydrated(page, '/audit');
      const seqs = () => page.$$eval('[data-testid="audit-table"] tbody tr td:first-child', (tds) => tds.map((td) => Number(td.textContent)));
      let shown = await seqs();
      assert(shown.length === 200, `the first page holds 200 entries (${shown.length})`);
      // The chain is checked over every entry, beside the list.
      await page.waitForSelector('[data-testid="audit-intact"]', { timeout: 60_000 });
      const verified = await page.textContent('[data-testid="audit-intact"]');
      const count = Number(verified.match(/over ([\d,]+) entries/)?.[1].replace(/,/g, ''));
      assert(count >= start + BULK, `verified over every entry: ${verified}`);
      // Scrolling to the foot loads the next page each time, in place, in order.
      for (let loaded = 1; loaded <= 3; loaded++) {
        await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid="audit-table"] tbody tr').length >= n, 200 + loaded * 200, { timeout: 15_000 });
      }
      await page.waitForSelector('[data-testid="list-count"] >> text=600 older entries loaded');
      shown = await seqs();
      assert(shown[0] >= start + BULK, `the newest first: ${shown[0]}`);
      assert(shown.every((n, i) => i === 0 || n === shown[i - 1] - 1), 'consecutive, none skipped or doubled');
      assert(new URL(page.url()).pathname === '/audit' && !page.url().includes('cursor'), `scrolling keeps the address: ${page.url()}`);
      await page.screenshot({ path: join(shots, 'audit-100k-1440.png') });

      // The form filters, in the URL.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.fill('[data-testid="audit-actor"]', 'system');
      await page.fill('[data-testid="audit-action"]', 'bulk.even');
      await page.press('[data-testid="audit-action"]', 'Enter');
      await page.waitForURL(/actor=system&action=bulk\.even/);
      // A plain GET form: a new page, which scrolls on once hydrated.
      await page.waitForSelector('body[data-hydrated="true"]');
      const onlyEven = async () => {
        const actions = await page.$$eval('[data-testid="audit-table"] tbody tr td:nth-child(4)', (tds) => tds.map((td) => td.textContent));
        return actions.length > 0 && actions.every((a) => a === 'bulk.even');
      };
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="audit-table"] tbody tr td:nth-child(4)')].every((td) => td.textContent === 'bulk.even'));
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-table"] tbody tr').length >= 400, null, { timeout: 15_000 });
      assert(await onlyEven(), 'the older pages keep the filter');
      // Reloaded from its address: the same, the fields filled in.
      await hydrated(page, new URL(page.url()).pathname + new URL(page.url()).search);
      assert(await onlyEven(), 'reloaded with the filter');
      assert(await page.inputValue('[data-testid="audit-actor"]') === 'system', 'the field shows the actor');
      // Clear, then a click on an entry's action filters by it.
      await page.click('[data-testid="audit-clear"]');
      await page.waitForURL((url) => url.pathname === '/audit' && url.search === '');
      await page.click('[data-testid="audit-table"] tbody tr:first-child td:nth-child(4) a');
      await page.waitForURL(/action=/);
      await context.close();

      const phone = await newPage({ viewport: { width: 375, height: 812 } });
      await hydrated(phone.page, '/audit?action=bulk.odd');
      await phone.page.waitForSelector('[data-testid="audit-table"]');
      await phone.page.screenshot({ path: join(shots, 'audit-filtered-375.png') });
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `the page fits 375 px (${overflow} px too wide)`);
      await phone.context.close();
    } finally {
      // Back to the chain as it was (entries appended meanwhile, such as sign-ins, go too).
      sql(`DELETE FROM audit_log WHERE workspace_id = '${ws}' AND seq > ${start};
           UPDATE audit_heads SET seq = ${start}, hash = '${headHash}' WHERE workspace_id = '${ws}';`);
    }
  });
}
