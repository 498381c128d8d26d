// The Budgets and Alerts journeys: a budget's bar and projection, editing it; channels, the bell, acknowledging.
// Run by run.mjs, which passes its helpers (see `helpers` there).

import { join } from 'node:path';
import { createServer as createHttpServer } from 'node:http';
import { createHmac } from 'node:crypto';

export async function budgetJourneys({ test, newPage, hydrated, sql, sqlSettled, assert, shots }) {
  await test('a budget is created, its bar moves as a task runs, and it projects the month', async () => {
    const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
    await hydrated(page, '/budgets');
    await page.waitForSelector('[data-testid="budgets-empty"]');
    assert((await page.textContent('[data-testid="budget-zone"]')).includes('time zone: UTC'), 'calendar zone shown');
    await page.fill('[data-testid="budget-name"]', 'Monthly fleet');
    await page.selectOption('[data-testid="budget-subject"]', 'workspace:');
    await page.selectOption('[data-testid="budget-period"]', 'month');
    await page.fill('[data-testid="budget-amount"]', '25');
    // Soft: alerts only, so the tests after this one are never refused.
    await page.uncheck('[data-testid="budget-hard"]');
    await page.click('[data-testid="budget-submit"]');
    await page.waitForSelector('[data-testid="budget-card"] >> text=Monthly fleet');
    assert(sql("SELECT amount_micros || ',' || hard FROM budgets WHERE name = 'Monthly fleet'") === '25000000,0',
      'stored as $25.00, soft');
    const before = sql("SELECT COALESCE(SUM(spent_micros), 0) FROM budget_periods");
    // A task runs; the budget's bar moves as its calls are settled.
    await hydrated(page, '/tasks');
    await page.fill('[data-testid="task-description"]', 'Fix the typo in the README');
    await page.click('[data-testid="submit-task"]');
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/, { timeout: 15_000 });
    await hydrated(page, '/budgets');
    await page.waitForFunction(() => {
      const bar = document.querySelector('[data-testid="budget-spent-bar"]');
      return bar && parseFloat(bar.style.width) > 0;
    }, null, { timeout: 60_000 });
    const spent = sql("SELECT SUM(spent_micros) FROM budget_periods");
    assert(Number(spent) > Number(before), `spent ${spent}`);
    const shown = (await page.textContent('[data-testid="budget-spent"]')).trim();
    assert(/^\$\d[\d.,]* spent of \$25\.00$/.test(shown), `spent shown: ${shown}`);
    // More than an hour into the month: a linear projection to its end.
    const projection = (await page.textContent('[data-testid="budget-projection"]')).trim();
    assert(/^Projected \$[\d.,]+ by [A-Z][a-z]{2} \d+/.test(projection), `projection: ${projection}`);
    // An admin raises the limit in place; what was spent stays.
    await page.click('[data-testid="budget-edit"]');
    await page.fill('[data-testid="budget-edit-amount"]', '30');
    await page.click('[data-testid="budget-edit-submit"]');
    assert(await sqlSettled("SELECT amount_micros FROM budgets WHERE name = 'Monthly fleet'", '30000000') === '30000000',
      'limit raised to $30');
    await page.waitForSelector('[data-testid="budget-spent"] >> text=of $30.00');
    assert(Number(sql("SELECT SUM(spent_micros) FROM budget_periods")) >= Number(spent), 'spent kept');
    await page.screenshot({ path: join(shots, 'budgets.png'), fullPage: true });
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(overflow <= 375, `budgets page is ${overflow}px wide`);
    await page.screenshot({ path: join(shots, 'budgets-mobile.png'), fullPage: true });
    await context.close();
  });

  await test('a channel is tested, a budget crossing rings the bell live, and acknowledging clears it', async () => {
    // A local webhook receiver: the channel's "send test" must reach it, signed.
    const received = [];
    const hook = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => { received.push({ headers: req.headers, body }); res.end('ok'); });
    });
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await hydrated(page, '/alerts/rules');
      await page.waitForSelector('[data-testid="channels-empty"]');
      assert(await page.locator('[data-testid="rule-card"]').count() === 6, 'six rules');
      await page.fill('[data-testid="channel-name"]', 'Ops hook');
      await page.fill('[data-testid="channel-target"]', `http://127.0.0.1:${hook.address().port}/hooks/secret-path`);
      await page.click('[data-testid="channel-submit"]');
      const secret = (await page.textContent('[data-testid="channel-secret"] .secret-value', { timeout: 10_000 })).trim();
      assert(secret.startsWith('whsec_'), `secret ${secret}`);
      assert(!(await page.content()).includes('secret-path'), 'the URL path is never shown');
      await page.click('[data-testid="channel-test"]');
      await page.waitForSelector('.toast >> text=Test delivered', { timeout: 15_000 });
      assert(received.length === 1, `${received.length} webhook requests`);
      const [t, v1] = received[0].headers['x-fleetdeck-signature'].split(',').map((p) => p.split('=')[1]);
      const expected = createHmac('sha256', secret).update(`${t}.${received[0].body}`).digest('hex');
      assert(v1 === expected, 'the signature verifies');
      assert(JSON.parse(received[0].body).text.includes('Test notification from Fleetdeck'), received[0].body);
      // A rule's number changed by an admin.
      const stuck = page.locator('[data-testid="rule-card"][data-kind="stuck_agent"]');
      await stuck.locator('[data-testid="rule-param-minutes"]').fill('15');
      await stuck.locator('[data-testid="rule-save"]').click();
      assert(await sqlSettled("SELECT params FROM alert_rules WHERE kind = 'stuck_agent'", '{"minutes":15.0}') === '{"minutes":15.0}',
        'rule saved');
      await page.screenshot({ path: join(shots, 'alert-rules.png'), fullPage: true });

      // A tiny soft budget alerting at 80 %: the next task's first call passes it.
      await hydrated(page, '/budgets');
      await page.click('summary >> text=New budget');
      await page.fill('[data-testid="budget-name"]', 'Tiny');
      await page.selectOption('[data-testid="budget-subject"]', 'workspace:');
      await page.fill('[data-testid="budget-amount"]', '0.0001');
      await page.fill('[data-testid="budget-thresholds"]', '80');
      await page.uncheck('[data-testid="budget-hard"]');
      await page.click('[data-testid="budget-submit"]');
      await page.waitForSelector('[data-testid="budget-card"] >> text=Tiny');
      await hydrated(page, '/tasks');
      await page.fill('[data-testid="task-description"]', 'Rename the config loader');
      await page.click('[data-testid="submit-task"]');
      await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/, { timeout: 15_000 });
      // The bell rings without a reload, with a toast.
      await page.waitForSelector('.toast >> text=Alert: Budget Tiny passed 80 %', { timeout: 30_000 });
      await page.waitForSelector('[data-testid="alert-bell-count"]');
      const open = Number(sql("SELECT COUNT(*) FROM alerts WHERE state = 'open'"));
      assert((await page.textContent('[data-testid="alert-bell-count"]')).trim() === String(open), 'bell count');
      await page.click('[data-testid="alert-bell"]');
      await page.waitForSelector('[data-testid="alert-item"] >> text=Budget Tiny passed 80 %');
      await page.screenshot({ path: join(shots, 'alerts.png'), fullPage: true });
      // Acknowledge every open alert: the bell clears, live.
      for (let i = 0; i < open; i++) {
        await page.locator('[data-testid="alert-acknowledge"]').first().click();
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid="alert-acknowledge"]').length === n, open - i - 1);
      }
      await page.waitForSelector('[data-testid="alert-bell-count"]', { state: 'detached', timeout: 10_000 });
      assert((await page.getAttribute('[data-testid="alert-bell"]', 'aria-label')) === 'Alerts: none open', 'bell label');
      assert((await page.textContent('[data-testid="alert-state"]')).includes('Acknowledged by admin@example.com'), 'who acknowledged');
      assert(sql("SELECT COUNT(*) FROM alerts WHERE state = 'open'") === '0', 'none open in the database');
      await page.setViewportSize({ width: 375, height: 812 });
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(overflow <= 375, `alerts page is ${overflow}px wide`);
      await page.screenshot({ path: join(shots, 'alerts-mobile.png'), fullPage: true });
      await hydrated(page, '/alerts/rules');
      const rulesOverflow = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(rulesOverflow <= 375, `rules page is ${rulesOverflow}px wide`);
      await page.screenshot({ path: join(shots, 'alert-rules-mobile.png'), fullPage: true });
    } finally {
      await context.close();
      hook.close();
    }
  });
}
