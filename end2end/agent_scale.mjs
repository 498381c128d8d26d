// The agent registry at scale: 100,000 agents scroll a page at a time in name order, the tag
// filter offers their tags and narrows the list in SQL (its address reloads it), a search finds
// one agent among them, and the page holds at 375 px. Run by run.mjs, which passes its helpers.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BULK = 100_000;

export async function agentScaleJourneys({ test, newPage, hydrated, sql, assert, shots }) {
  await test('the agent registry scrolls through 100,000 agents, filtered by tag and searched in the URL', async () => {
    const ws = sql("SELECT workspace_id FROM agents WHERE name = 'Planner'");
    const lines = ['BEGIN;'];
    const now = Date.now();
    const roles = ['ANALYST', 'PLANNER', 'BUILDER', 'TESTER', 'REVIEWER'];
    for (let i = 1; i <= BULK; i++) {
      const n = String(i).padStart(6, '0');
      const tags = JSON.stringify(['fleet', `shard-${i % 10}`]);
      lines.push(`INSERT INTO agents (id, workspace_id, name, role, description, model, tags, created_at, updated_at) VALUES ('bulk-agent-${n}', '${ws}', 'Fleet agent ${n}', '${roles[i % 5]}', 'Generated fleet member', 'sim-standard', '${tags}', ${now}, ${now});`);
    }
    lines.push('COMMIT;');
    const dir = mkdtempSync(join(tmpdir(), 'fleetdeck-agents-'));
    writeFileSync(join(dir, 'bulk.sql'), lines.join('\n'));
    sql(`.read ${join(dir, 'bulk.sql')}`);
    rmSync(dir, { recursive: true });
    const cards = '[data-testid="agent-card"]';
    const names = (page) => page.$$eval(`${cards} h2`, (hs) => hs.map((h) => h.textContent));
    const ordered = (list) => list.every((n, i) => i === 0 || Buffer.compare(Buffer.from(list[i - 1]), Buffer.from(n)) < 0);
    try {
      const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
      await hydrated(page, '/agents');
      let shown = await names(page);
      assert(shown.length === 50, `the first page holds 50 agents (${shown.length})`);
      const summary = await page.textContent('[data-testid="agent-count"]');
      const inDb = Number(sql('SELECT COUNT(*) FROM agents')).toLocaleString('en-US');
      assert(summary.includes(`${inDb} agents in the workspace`), `the workspace's count: ${summary} (${inDb} stored)`);
      // Scrolling to the foot loads the next page each time, in place, in name order.
      for (let loaded = 1; loaded <= 3; loaded++) {
        await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
        await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length >= n, [cards, 50 + loaded * 50], { timeout: 15_000 });
      }
      await page.waitForSelector('[data-testid="list-count"] >> text=150 more agents loaded');
      shown = await names(page);
      assert(shown.length === 200 && ordered(shown), 'by name, none skipped or doubled');
      assert(shown.includes('Fleet agent 000150'), 'the generated agents follow the seeded ones by name');
      assert(!page.url().includes('cursor'), `scrolling keeps the address: ${page.url()}`);
      await page.screenshot({ path: join(shots, 'agents-100k-1440.png') });

      // The tag filter offers the fleet's tags and narrows the list, in the URL.
      await page.evaluate(() => window.scrollTo(0, 0));
      const offered = await page.$$eval('[data-testid="filter-tag"] option', (os) => os.map((o) => o.value));
      for (const tag of ['fleet', 'shard-0', 'shard-9']) assert(offered.includes(tag), `tag ${tag} offered: ${offered.join(', ')}`);
      await page.selectOption('[data-testid="filter-tag"]', 'shard-7');
      await page.click('[data-testid="apply-agent-filters"]');
      await page.waitForURL(/tag=shard-7/);
      await page.waitForSelector('body[data-hydrated="true"]');
      const onlyShard7 = () => page.$$eval(cards, (cs) => cs.length > 0
        && cs.every((c) => [...c.querySelectorAll('[data-testid="agent-tag"]')].some((t) => t.textContent === 'shard-7')));
      assert(await onlyShard7(), 'only agents tagged shard-7');
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 100, cards, { timeout: 15_000 });
      assert(await onlyShard7(), 'the next pages keep the filter');
      shown = await names(page);
      assert(shown[0] === 'Fleet agent 000007' && ordered(shown), `shard 7 by name from its first: ${shown[0]}`);

      // A search finds one agent among 100,000; the address reloads it.
      await hydrated(page, '/agents?q=000777');
      shown = await names(page);
      assert(shown.length === 1 && shown[0] === 'Fleet agent 000777', `one match: ${shown.join(', ')}`);
      assert(await page.inputValue('[data-testid="agent-search"]') === '000777', 'the search box shows the words');

      // The pages that pick an agent offer the first 200 by name and say so; the Studio opens
      // any agent from its card's "Try".
      await hydrated(page, '/studio');
      const studioChoices = await page.locator('[data-testid="studio-agent"] option').count();
      assert(studioChoices === 200, `the Studio offers 200 agents (${studioChoices})`);
      await page.waitForSelector('[data-testid="studio-more-agents"]');
      await hydrated(page, '/agents?q=099999');
      await page.click('[data-testid="agent-card"] [data-testid="agent-try"]');
      await page.waitForURL(/\/studio\?agent=bulk-agent-099999/);
      await page.waitForSelector('body[data-hydrated="true"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="studio-agent"]')?.selectedOptions[0]?.textContent.startsWith('Fleet agent 099999'));
      // "Find any agent" beside the list: a search among all 100,000, keyboard only; Enter
      // opens the one found. Words nothing has are said so.
      await hydrated(page, '/studio');
      await page.fill('[data-testid="studio-find-input"]', 'no such agent anywhere');
      await page.waitForSelector('[data-testid="studio-find-status"] >> text=No agent matches');
      await page.fill('[data-testid="studio-find-input"]', '054321');
      await page.waitForSelector('[data-testid="studio-find-option"] >> text=Fleet agent 054321');
      const found = await page.locator('[data-testid="studio-find-option"]').count();
      assert(found === 1, `one agent found (${found})`);
      assert(await page.getAttribute('[data-testid="studio-find-input"]', 'aria-expanded') === 'true', 'the list is announced open');
      await page.screenshot({ path: join(shots, 'studio-find-1440.png') });
      await page.press('[data-testid="studio-find-input"]', 'Enter');
      await page.waitForURL(/\/studio\?agent=bulk-agent-054321/);
      await page.waitForFunction(() => document.querySelector('[data-testid="studio-agent"]')?.selectedOptions[0]?.textContent.startsWith('Fleet agent 054321'));

      await hydrated(page, '/budgets');
      // (in the "New budget" form, folded away once budgets exist)
      await page.waitForSelector('[data-testid="budget-more-agents"]', { state: 'attached' });
      const agentSubjects = await page.$$eval('[data-testid="budget-subject"] option', (os) => os.filter((o) => o.value.startsWith('agent:')).length);
      assert(agentSubjects === 200, `the budget form offers 200 agents (${agentSubjects})`);
      // A budget for an agent past the first 200: found, clicked, chosen in the list, created.
      await page.$eval('[data-testid="budget-form"]', (f) => { f.closest('details').open = true; });
      await page.fill('[data-testid="budget-name"]', 'Agent 077777 cap');
      await page.fill('[data-testid="budget-find-input"]', '077777');
      await page.click('[data-testid="budget-find-option"] >> text=Fleet agent 077777');
      assert(await page.inputValue('[data-testid="budget-subject"]') === 'agent:bulk-agent-077777', 'the found agent is chosen in the list');
      await page.fill('[data-testid="budget-amount"]', '5');
      await page.uncheck('[data-testid="budget-hard"]');
      await page.click('[data-testid="budget-submit"]');
      await page.waitForSelector('[data-testid="budget-card"] >> text=Agent 077777 cap');
      assert(sql("SELECT scope || ':' || subject_id FROM budgets WHERE name = 'Agent 077777 cap'") === 'agent:bulk-agent-077777',
        'the budget applies to that agent');
      await context.close();

      const phone = await newPage({ viewport: { width: 375, height: 812 } });
      await hydrated(phone.page, '/agents?tag=shard-3');
      await phone.page.waitForSelector(cards);
      await phone.page.screenshot({ path: join(shots, 'agents-100k-375.png') });
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `the page fits 375 px (${overflow} px too wide)`);
      // The budget form's search on a phone: its matches fold out within the screen.
      await hydrated(phone.page, '/budgets');
      await phone.page.$eval('[data-testid="budget-form"]', (f) => { f.closest('details').open = true; });
      await phone.page.fill('[data-testid="budget-find-input"]', 'Fleet agent 0777');
      await phone.page.waitForSelector('[data-testid="budget-find-option"]');
      await phone.page.$eval('[data-testid="budget-find-input"]', (el) => { el.scrollIntoView({ block: 'start' }); window.scrollBy(0, -120); });
      await phone.page.screenshot({ path: join(shots, 'budget-find-375.png') });
      const listOverflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(listOverflow <= 0, `the budget form's search fits 375 px (${listOverflow} px too wide)`);
      await phone.context.close();
    } finally {
      sql("DELETE FROM budget_periods WHERE budget_id IN (SELECT id FROM budgets WHERE subject_id LIKE 'bulk-agent-%')");
      sql("DELETE FROM budgets WHERE subject_id LIKE 'bulk-agent-%'");
      sql("DELETE FROM agents WHERE id LIKE 'bulk-agent-%'");
    }
  });
}
