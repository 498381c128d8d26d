// The task-centric journey: an admin allows working directories under a root and archiving
// after N days (Settings → Tasks); a developer submits a task in a chosen directory (its files
// land there, its row and page name it, the form offers it again), opens a row's agents,
// archives tasks in bulk, finds them in the archive by search and restores them. Run by
// run.mjs, which passes its helpers.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function taskJourneys({ test, newPage, hydrated, sql, sqlSettled, assert, shots, problems }) {
  // The browser logs each refused request (a 422) as a console error: expected where this
  // journey sends bad input on purpose (and while a custom workflow has no steps yet).
  const expect422 = () => problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('status of 422')));
  await test('a task runs in a chosen working directory; tasks are archived in bulk, searched and restored', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'fleetdeck-projects-')));
    mkdirSync(join(root, 'shop', 'web'), { recursive: true });
    const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });

    // Settings → Tasks: the root and 30 days.
    await hydrated(page, '/settings');
    await page.waitForSelector('[data-testid="task-settings-card"] >> text=Tasks run in a directory of their own');
    await page.fill('[data-testid="workdir-root"]', '/no/such/place');
    await page.click('[data-testid="save-task-settings"]');
    await page.waitForSelector('[data-testid="toast"] >> text=does not exist');
    assert(sql("SELECT COUNT(*) FROM system_settings WHERE key = 'workdir_root'") === '0', 'a bad root saves nothing');
    await page.fill('[data-testid="workdir-root"]', `${root}/`);
    await page.fill('[data-testid="archive-after-days"]', '30');
    await page.click('[data-testid="save-task-settings"]');
    await page.waitForSelector(`[data-testid="task-workdir-summary"]:has-text("${root}")`);
    assert(await sqlSettled("SELECT value FROM system_settings WHERE key = 'task_archive_after_days'", '30') === '30', 'days stored');
    await page.waitForSelector('[data-testid="task-archive-summary"] >> text=archived 30 day(s)');
    await page.locator('[data-testid="task-settings-card"]').screenshot({ path: join(shots, 'settings-tasks-1440.png') });

    // A task in shop/web: one BUILDER step (simulated) writes its files there.
    await hydrated(page, '/tasks?new=1');
    await page.fill('[data-testid="task-description"]', 'Add a newsletter signup form to the shop');
    await page.selectOption('[data-testid="task-workflow"]', 'custom');
    await page.fill('input[name="steps"]', 'BUILDER');
    await page.fill('[data-testid="task-workdir"]', '../elsewhere');
    await page.click('[data-testid="submit-task"]');
    await page.waitForSelector('[data-testid="toast"] >> text=must lie under');
    expect422();
    await page.fill('[data-testid="task-workdir"]', 'shop/web');
    await page.screenshot({ path: join(shots, 'task-workdir-1440.png') });
    await page.click('[data-testid="submit-task"]');
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/, { timeout: 15_000 });
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.waitForSelector(`[data-testid="task-workdir"]:has-text("${root}/shop/web")`);
    await page.waitForSelector('.page-header [data-testid="task-status"] >> text=completed', { timeout: 60_000 });
    const files = readdirSync(join(root, 'shop', 'web'), { recursive: true });
    assert(files.length > 0, 'the BUILDER wrote its files in the chosen directory');
    const chosenId = page.url().split('/').pop();

    // The list: the row names the directory and opens its agents.
    await hydrated(page, '/tasks');
    const row = page.locator('[data-testid="task-row"]', { hasText: 'newsletter signup' });
    await row.locator('[data-testid="task-workdir"] >> text=shop/web').waitFor();
    await row.locator('[data-testid="show-agents"] >> text=Show 1 agent').click();
    await page.waitForSelector('[data-testid="task-agents"] >> text=Builder');
    await page.waitForSelector('[data-testid="task-agents"] >> text=Simulated');
    assert(await row.locator('[data-testid="show-agents"]').getAttribute('aria-expanded') === 'true', 'the toggle says it is open');
    // The form offers the directory again.
    await page.waitForSelector(`[data-testid="recent-workdirs"]:has-text("${root}/shop/web")`);
    await page.screenshot({ path: join(shots, 'tasks-agents-1440.png'), fullPage: true });

    // Archive two finished tasks at once.
    const finished = Number(sql("SELECT COUNT(*) FROM tasks WHERE archived = 0 AND workflow <> 'playground' AND status IN ('completed','failed','cancelled')"));
    assert(finished >= 2, `at least two finished tasks (${finished})`);
    await row.locator('[data-testid="select-task"]').check();
    const other = page.locator('[data-testid="task-row"]', { hasNotText: 'newsletter signup' }).filter({ has: page.locator('[data-testid="select-task"]') }).first();
    const otherText = (await other.locator('.task-cell a').textContent()).trim();
    await other.locator('[data-testid="select-task"]').check();
    await page.waitForSelector('[data-testid="bulk-bar"] >> text=2 tasks selected');
    await page.screenshot({ path: join(shots, 'tasks-selected-1440.png') });
    await page.click('[data-testid="bulk-archive"]');
    await page.waitForSelector('[data-testid="toast"] >> text=2 tasks archived');
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid="task-row"]')].some((r) => r.textContent.includes('newsletter signup')));
    assert(sql(`SELECT archived FROM tasks WHERE id = '${chosenId}'`) === '1', 'archived in the database');

    // The archive, searched: only the matching task; its row names when it was archived.
    await page.click('[data-testid="toggle-archived"]');
    await page.waitForURL(/\/tasks\?archived=1$/);
    await page.waitForSelector('h2 >> text=Archived tasks');
    await page.waitForSelector('[data-testid="task-row"] >> text=newsletter signup');
    await page.fill('[data-testid="task-search"]', 'NEWSLETTER');
    await page.press('[data-testid="task-search"]', 'Enter');
    await page.waitForURL(/archived=1/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="task-row"]').length === 1);
    // The search form is a plain GET: a new document, whose checkboxes work once it hydrates.
    await page.waitForSelector('body[data-hydrated="true"]');
    assert(page.url().includes('q=NEWSLETTER'), `the search is in the URL: ${page.url()}`);
    await page.screenshot({ path: join(shots, 'tasks-archived-1440.png') });
    // Restore it from the archive; the other stays there.
    await page.locator('[data-testid="select-all-tasks"]').check();
    await page.click('[data-testid="bulk-archive"] >> text=Restore');
    await page.waitForSelector('[data-testid="toast"] >> text=1 task restored');
    await page.waitForSelector('[data-testid="tasks-empty"] >> text=No archived task matches');
    await hydrated(page, '/tasks?archived=1');
    await page.waitForSelector(`[data-testid="task-row"] >> text=${otherText.slice(0, 30)}`);

    // The other one from its own page: Restore, then Archive again.
    await page.locator('[data-testid="task-row"] .task-cell a').first().click();
    await page.waitForSelector('[data-testid="archived-badge"]');
    await page.click('[data-testid="archive-task"] >> text=Restore');
    await page.waitForSelector('[data-testid="toast"] >> text=Task restored');
    assert(await page.locator('[data-testid="archived-badge"]').count() === 0, 'the badge goes');
    await hydrated(page, '/tasks');
    await page.waitForSelector('[data-testid="task-row"] >> text=newsletter signup');
    await context.close();

    // A phone: the list with its controls fits 375 px.
    const phone = await newPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    await hydrated(phone.page, '/tasks');
    await phone.page.waitForSelector('[data-testid="task-row"]');
    await phone.page.locator('[data-testid="task-row"] [data-testid="show-agents"]').first().click();
    await phone.page.waitForSelector('[data-testid="task-agents"]');
    const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    assert(width <= 375, `the tasks page is ${width}px wide`);
    await phone.page.screenshot({ path: join(shots, 'tasks-375.png'), fullPage: true });
    await phone.context.close();
    assert(existsSync(join(root, 'shop', 'web')), 'the chosen directory is still there');
  });

  await test('the tasks list scrolls through 100,000 tasks a page at a time, its search in the URL', async () => {
    // 100,000 finished tasks older than the others, written straight into the database.
    sql(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
         INSERT INTO tasks (id, workspace_id, description, workflow, complexity, status, created_at, started_at, finished_at)
         SELECT printf('bulk-%06d', i), (SELECT id FROM workspaces LIMIT 1), printf('Bulk task %d of the big list', i),
                'custom', 'simple', 'completed', 1600000000000 + i * 1000, 1600000000000 + i * 1000, 1600000000000 + i * 1000 + 500
         FROM n`);
    try {
      const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
      await hydrated(page, '/tasks');
      const rows = () => page.locator('[data-testid="task-row"]').count();
      const first = await rows();
      assert(first === 100, `the first page holds 100 tasks (${first})`);
      // Scrolling to the foot loads the next page each time, in place.
      for (let loaded = 1; loaded <= 5; loaded++) {
        await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid="task-row"]').length >= n, 100 + loaded * 100, { timeout: 15_000 });
      }
      await page.waitForSelector('[data-testid="list-count"] >> text=500 older tasks loaded');
      assert(page.url() === `${page.url().split('/tasks')[0]}/tasks`, `scrolling keeps the address: ${page.url()}`);
      // In order, with nothing skipped or doubled across the pages.
      const bulk = await page.$$eval('[data-testid="task-row"] .task-cell a', (as) => as.map((a) => a.textContent)
        .filter((t) => t.startsWith('Bulk task')).map((t) => Number(t.split(' ')[2])));
      assert(bulk.length > 400 && bulk[0] === 100000, `bulk rows start at the newest: ${bulk.slice(0, 3)}`);
      assert(bulk.every((n, i) => i === 0 || n === bulk[i - 1] - 1), 'consecutive, none skipped or doubled');
      await page.screenshot({ path: join(shots, 'tasks-100k-1440.png') });
      // The search runs over all of them and lives in the URL.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.fill('[data-testid="task-search"]', 'task 77777 of');
      await page.press('[data-testid="task-search"]', 'Enter');
      await page.waitForURL(/q=task\+77777\+of/);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="task-row"]').length === 1);
      assert((await page.textContent('[data-testid="task-row"] .task-cell a')) === 'Bulk task 77777 of the big list', 'the one match');
      // Reloaded from its address: the same.
      await hydrated(page, new URL(page.url()).pathname + new URL(page.url()).search);
      await page.waitForSelector('[data-testid="task-row"] >> text=Bulk task 77777 of the big list');
      assert(await page.inputValue('[data-testid="task-search"]') === 'task 77777 of', 'the field shows the search');
      await context.close();
    } finally {
      sql("DELETE FROM tasks WHERE id LIKE 'bulk-%'");
    }
  });
}
