// The Analytics journey: breakdowns, drill-down to calls, ranges kept in the URL, CSV, Trends and ROI.
// Run by run.mjs, which passes its helpers (see `helpers` there).

import { join } from 'node:path';
import { readFileSync } from 'node:fs';

export async function analyticsJourneys({ test, newPage, hydrated, sql, assert, base, shots, clickFirstBar }) {
  await test('Analytics breaks the cost down, keeps range and grouping in the URL and downloads CSV', async () => {
    const { context, page } = await newPage({ acceptDownloads: true });
    await hydrated(page, '/analytics?range=24h&by=role');
    await page.waitForSelector('[data-testid="breakdown"] tbody tr');
    const roles = await page.$$eval('[data-testid="breakdown"] tbody tr td:first-child', (tds) => tds.map((t) => t.textContent.trim()).sort());
    assert(JSON.stringify(roles) === JSON.stringify(['ANALYST', 'BUILDER', 'PLANNER', 'REVIEWER', 'TESTER']), `roles: ${roles}`);
    const calls = (await page.textContent('[data-testid="analytics-calls"] .stat-value')).trim();
    assert(calls === sql('SELECT COUNT(*) FROM llm_calls'), `calls shown ${calls}`);
    await page.waitForSelector('#chart-analytics-cost canvas');
    await page.waitForSelector('[data-testid="speed"] >> text=simulator · sim-standard');
    await page.screenshot({ path: join(shots, 'analytics-desktop.png'), fullPage: true });
    // Drill down: the calls behind the BUILDER row, each linking to its task.
    await page.click('[data-testid="breakdown"] >> text=BUILDER');
    await page.waitForURL(/\/calls\?.*role=BUILDER/);
    await page.waitForSelector('[data-testid="call-row"]');
    const builderCalls = await page.locator('[data-testid="call-row"]').count();
    assert(String(builderCalls) === sql("SELECT COUNT(*) FROM llm_calls WHERE role = 'BUILDER'"), `builder calls ${builderCalls}`);
    await page.selectOption('[data-testid="filter-outcome"]', 'failed');
    await page.click('[data-testid="apply-filters"]');
    await page.waitForSelector('[data-testid="calls-empty"]');
    assert(/role=BUILDER/.test(page.url()) && /outcome=failed/.test(page.url()), `filters kept: ${page.url()}`);
    await page.goto(`${base}/calls`);
    await page.waitForSelector('[data-testid="call-row"]');
    await page.screenshot({ path: join(shots, 'calls-desktop.png'), fullPage: true });
    await page.click('[data-testid="call-row"] a');
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
    await page.goto(`${base}/analytics?range=24h&by=role`);
    await page.waitForSelector('[data-testid="breakdown"] tbody tr');
    // Grouping and range are links: the URL says what is shown.
    await page.click('[data-testid="group-picker"] >> text=Model');
    await page.waitForURL(/range=24h&by=model/);
    await page.waitForSelector('[data-testid="breakdown"] >> text=sim-standard');
    await page.click('[data-testid="range-picker"] >> text=7d');
    await page.waitForURL(/range=7d&by=model/);
    await page.waitForSelector('[data-testid="breakdown"] th >> text=Model');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="download-csv"]'),
    ]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
    assert(csv[0].startsWith('period_start,group,label,calls'), `csv header: ${csv[0]}`);
    const total = csv.slice(1).reduce((n, line) => n + Number(line.split(',')[3]), 0);
    assert(String(total) === sql('SELECT COUNT(*) FROM llm_calls'), `csv calls ${total}`);
    // A bar of the cost chart opens the calls of its period.
    await page.goto(`${base}/analytics?range=24h&by=model`);
    await clickFirstBar(page, 'chart-analytics-cost');
    await page.waitForURL(/\/calls\?from=\d+&to=\d+/);
    await page.waitForSelector('[data-testid="call-window"]');
    const periodCalls = await page.locator('[data-testid="call-row"]').count();
    assert(periodCalls > 0, 'the bar opened its calls');
    // A custom range of days, kept in the URL.
    const today = new Date().toISOString().slice(0, 10);
    await page.goto(`${base}/analytics?range=7d&by=model`);
    await page.click('.custom-range summary');
    await page.fill('[data-testid="custom-range"] input[name="from"]', today);
    await page.fill('[data-testid="custom-range"] input[name="to"]', today);
    await page.click('[data-testid="custom-range"] button[type="submit"]');
    await page.waitForURL(/range=custom.*from=\d{4}-\d{2}-\d{2}/);
    await page.waitForSelector('[data-testid="breakdown"] >> text=sim-standard');
    // Trends: the heatmap in the browser's time zone, tasks by workflow, the costliest tasks.
    await page.click('nav.tabs >> text=Trends');
    await page.waitForURL(/\/analytics\/trends\?.*tz=/);
    await page.waitForSelector('[data-testid="heatmap"]');
    await page.waitForSelector('[data-testid="workflows"] >> text=feature implementation');
    await page.waitForSelector('[data-testid="top-tasks"] tbody tr a');
    const busy = await page.$$eval('[data-testid="heatmap"] td', (tds) => tds.filter((td) => Number(td.textContent.trim()) > 0).length);
    assert(busy >= 1, 'the heatmap shows when calls happened');
    await page.screenshot({ path: join(shots, 'trends-desktop.png'), fullPage: true });
    // A bar of the completion-time chart opens the completed tasks that took that long.
    const trendsUrl = page.url();
    const bar = await clickFirstBar(page, 'chart-completion-times');
    await page.waitForURL(/\/tasks\?status=completed&finished_from=\d+&finished_to=\d+/);
    await page.waitForSelector('[data-testid="task-filters"] >> text=completed');
    await page.waitForSelector('[data-testid="task-table"]');
    const behind = await page.locator('[data-testid="task-table"] tbody tr').count();
    assert(behind === bar.n, `the bar said ${bar.n} tasks, the list shows ${behind}`);
    await page.screenshot({ path: join(shots, 'tasks-drilldown-desktop.png'), fullPage: true });
    // A workflow of the efficiency table opens its tasks.
    await page.goto(trendsUrl);
    await page.click('[data-testid="workflows"] >> text=feature implementation');
    await page.waitForURL(/\/tasks\?workflow=feature_implementation/);
    await page.waitForSelector('[data-testid="task-table"] tbody tr');
    await page.click('[data-testid="task-filters"] >> text=All tasks');
    await page.waitForURL(/\/tasks$/);
    await page.waitForSelector('[data-testid="task-table"] tbody tr');
    // A busy cell of the heatmap opens the calls of that hour of the week.
    await page.goto(trendsUrl);
    const cellTitle = await page.getAttribute('[data-testid="heatmap"] td a', 'aria-label');
    const cellCalls = Number(/— (\d+) calls/.exec(cellTitle)[1]);
    await page.click('[data-testid="heatmap"] td a');
    await page.waitForURL(/\/calls\?from=\d+&to=\d+&weekday=\d&hour=\d+&tz=/);
    await page.waitForSelector('[data-testid="call-window"] >> text=/(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)days/');
    await page.waitForSelector('[data-testid="call-row"]');
    const cellRows = await page.locator('[data-testid="call-row"]').count();
    assert(cellRows === Math.min(cellCalls, 50), `the cell said ${cellCalls} calls, the list shows ${cellRows}`);
    await page.goto(trendsUrl);
    await page.click('nav.tabs >> text=ANALYST ROI');
    await page.waitForURL(/\/analytics\/roi\?/);
    await page.waitForSelector('[data-testid="roi-table"] tbody tr');
    await page.screenshot({ path: join(shots, 'roi-desktop.png'), fullPage: true });
    await context.close();
    const phone = await newPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    await hydrated(phone.page, '/analytics?range=7d&by=agent');
    await phone.page.waitForSelector('[data-testid="breakdown"] tbody tr');
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    assert(overflow <= 375, `analytics is ${overflow}px wide on a phone`);
    await phone.page.screenshot({ path: join(shots, 'analytics-phone.png'), fullPage: true });
    await hydrated(phone.page, '/analytics/trends?range=7d');
    await phone.page.waitForSelector('[data-testid="heatmap"]');
    const trendsWidth = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    const wide = await phone.page.evaluate(() => [...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().width > 380)
      .slice(0, 6).map((e) => `${e.tagName}.${e.className}`).join(' '));
    assert(trendsWidth <= 375, `trends is ${trendsWidth}px wide on a phone: ${wide}`);
    await phone.page.screenshot({ path: join(shots, 'trends-phone.png'), fullPage: true });
    await phone.context.close();
  });
}
