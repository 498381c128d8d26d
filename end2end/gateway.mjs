// The gateway journey: an admin adds an OpenAI-compatible provider and a route in Settings;
// a script with an API key calls /v1/chat/completions as an OpenAI SDK would (streaming), gets
// the answer event by event, and the call is recorded with its exact usage. Then a script
// exports an OpenTelemetry trace, which the Traces page shows as a span tree.
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
    // Credits per request, a workspace setting.
    await page.fill('[data-testid="gateway-credits-input"]', '2');
    await page.click('[data-testid="gateway-credits-save"]');
    assert(await sqlSettled("SELECT value FROM system_settings WHERE key = 'gateway_credits_per_call'", '2') === '2', 'stored');
    await hydrated(page, '/settings');
    await page.waitForSelector('[data-testid="gateway-credits"] >> text=takes 2 credit');
    await context.close();
    upstream.close();
  });

  await test('a script exports an OpenTelemetry trace and the Traces page shows its span tree, call and conversation', async () => {
    const key = apiKey('otel exporter');
    const t0 = BigInt(Date.now()) * 1000000n;
    const at = (ms) => String(t0 + BigInt(ms) * 1000000n);
    const attr = (key, value) => (typeof value === 'number'
      ? { key, value: { intValue: String(value) } }
      : { key, value: { stringValue: value } });
    const traceId = 'e2e0'.repeat(8);
    const span = (id, parent, name, from, to, attributes, status) => ({
      traceId, spanId: id.padStart(16, '0'), parentSpanId: parent ? parent.padStart(16, '0') : '',
      name, kind: 1, startTimeUnixNano: at(from), endTimeUnixNano: at(to), attributes, ...(status ? { status } : {}),
    });
    const exportBody = { resourceSpans: [{
      resource: { attributes: [attr('service.name', 'travel-desk')] },
      scopeSpans: [{ spans: [
        span('1', null, 'invoke_agent Trip planner', 0, 1800, [attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.agent.name', 'Trip planner')]),
        span('2', '1', 'chat gpt-4o-mini', 20, 900, [
          attr('gen_ai.operation.name', 'chat'), attr('gen_ai.provider.name', 'openai'),
          attr('gen_ai.request.model', 'gpt-4o-mini'),
          attr('gen_ai.usage.input_tokens', 1200), attr('gen_ai.usage.output_tokens', 80),
          attr('gen_ai.usage.cache_read.input_tokens', 1000),
          attr('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Plan two days in Lisbon' }] }])),
          attr('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'search_hotels', arguments: { city: 'Lisbon' } }] }])),
        ]),
        span('3', '1', 'execute_tool search_hotels', 920, 1700, [
          attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', 'search_hotels'),
          attr('gen_ai.tool.call.arguments', '{"city":"Lisbon"}'),
        ], { code: 2, message: 'the hotel search timed out' }),
      ] }],
    }] };
    const res = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(exportBody),
    });
    assert(res.status === 200, `export: ${res.status} ${await res.text()}`);
    for (const width of [1440, 375]) {
      const { context, page } = await newPage({ viewport: { width, height: width > 500 ? 900 : 812 } });
      await hydrated(page, '/traces');
      await page.waitForSelector('[data-testid="trace-row"] >> text=invoke_agent Trip planner');
      const row = await page.textContent('[data-testid="trace-row"]');
      assert(row.includes('travel-desk') && row.includes('Trip planner'), `listed: ${row}`);
      if (width === 1440) await page.screenshot({ path: join(shots, 'traces.png'), fullPage: false });
      await page.click('[data-testid="trace-link"]');
      await page.waitForSelector('[data-testid="span-tree"]');
      assert((await page.locator('[data-testid="span-row"]').count()) === 3, 'three spans');
      // The chat span opens to its recorded call (priced from the price table) and its conversation.
      await page.click('[data-testid="span-row"]:nth-child(2) summary');
      await page.waitForSelector('[data-testid="span-call"] >> text=gpt-4o-mini');
      await page.waitForSelector('[data-testid="span-conversation"] >> text=Plan two days in Lisbon');
      await page.waitForSelector('[data-testid="span-conversation"] >> text=search_hotels');
      assert(!(await page.textContent('[data-testid="trace-cost"]')).includes('unknown'), 'the call is priced');
      await page.click('[data-testid="span-row"]:nth-child(3) summary');
      await page.waitForSelector('text=the hotel search timed out');
      await page.screenshot({ path: join(shots, `trace-detail-${width}.png`), fullPage: true });
      await context.close();
    }
    // The call is in the calls explorer, marked as reported over OTLP and linked to its trace.
    const { context, page } = await newPage({ viewport: { width: 1440, height: 900 } });
    await hydrated(page, '/calls');
    await page.waitForSelector('[data-testid="call-otlp"]');
    await page.click('[data-testid="call-trace"]');
    await page.waitForSelector('[data-testid="trace-name"] >> text=invoke_agent Trip planner');
    await context.close();
  });
}
