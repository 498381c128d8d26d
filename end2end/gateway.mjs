// The gateway journey: an admin adds an OpenAI-compatible provider and a route in Settings;
// a script with an API key calls /v1/chat/completions as an OpenAI SDK would (streaming), gets
// the answer event by event, and the call is recorded with its exact usage.
// Run by run.mjs, which passes its helpers (see `helpers` there).

import { createServer } from 'node:http';
import { join } from 'node:path';

/** A local upstream speaking OpenAI's streaming format, usage included when asked for. */
function fakeUpstream() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => { raw += c; });
      req.on('end', () => {
        const body = JSON.parse(raw || '{}');
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const piece of ['Hello', ' from', ' upstream']) {
          res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece } }] })}\n\n`);
        }
        if (body.stream_options?.include_usage) {
          res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 42, completion_tokens: 7 } })}\n\n`);
        }
        res.end('data: [DONE]\n\n');
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function gatewayJourneys({ test, newPage, hydrated, sql, sqlSettled, assert, base, shots, apiKey }) {
  await test('an admin routes a model in Settings and a script streams through the gateway, recorded to the token', async () => {
    const upstream = await fakeUpstream();
    const upstreamUrl = `http://127.0.0.1:${upstream.address().port}/v1`;
    const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
    await hydrated(page, '/settings');
    await page.click('[data-testid="add-provider-toggle"]');
    await page.fill('[data-testid="provider-name"]', 'Local LLM');
    await page.selectOption('[data-testid="provider-kind"]', 'openai_compatible');
    await page.fill('input[name="base_url"]', upstreamUrl);
    await page.fill('[data-testid="provider-key"]', 'sk-local-upstream-1234');
    await page.click('[data-testid="provider-submit"]');
    await page.waitForSelector('[data-testid="provider-row"] >> text=Local LLM');
    // The route form lists the providers it may use as the page loads them.
    await hydrated(page, '/settings');
    await page.waitForSelector('[data-testid="route-provider"] >> text=Local LLM', { state: 'attached' });
    await page.waitForSelector('[data-testid="gateway-empty"]');
    assert((await page.textContent('[data-testid="gateway-base-url"]')) === `${base}/v1`, 'the base URL to use is shown');
    const provider = sql("SELECT id FROM providers WHERE name = 'Local LLM'");
    await page.fill('[data-testid="route-model"]', 'team-model');
    await page.selectOption('[data-testid="route-provider"]', provider);
    await page.fill('[data-testid="route-target"]', 'local-mini');
    await page.click('[data-testid="route-save"]');
    await page.waitForSelector('[data-testid="gateway-route"] >> text=team-model');
    await page.screenshot({ path: join(shots, 'settings-gateway.png'), fullPage: false });

    // A script, as an OpenAI SDK would call it.
    const key = apiKey('gateway script');
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'team-model', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    assert(res.status === 200, `status ${res.status}`);
    const text = await res.text();
    assert(text.includes('upstream') && text.endsWith('data: [DONE]\n\n'), `streamed: ${text}`);
    assert(!text.includes('usage'), 'the usage the gateway asked for is not passed on');
    assert(await sqlSettled("SELECT prompt_tokens || '/' || completion_tokens || '/' || success FROM llm_calls WHERE source = 'gateway'", '42/7/1') === '42/7/1',
      'recorded with the upstream usage');
    // The calls explorer shows it, marked as the gateway's.
    await hydrated(page, '/calls');
    await page.waitForSelector('[data-testid="call-gateway"]');
    await hydrated(page, '/settings');
    // The route is deleted again: the model is then unknown.
    await page.click('[data-testid="gateway-route"] button');
    await page.waitForSelector('[data-testid="gateway-empty"]');
    const gone = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'team-model', messages: [] }),
    });
    assert(gone.status === 404, `after deletion: ${gone.status}`);
    await context.close();
    upstream.close();
  });
}
