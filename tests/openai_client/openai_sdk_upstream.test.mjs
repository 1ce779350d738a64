// The OpenAI client library against chatgate's /v1 while chatgate itself talks to an
// OpenAI-compatible upstream (the fake in tests/fake_upstream, its own process on port 0):
// answers and usage come through, and upstream failures surface as the library's errors,
// also in the middle of a stream. Skips when the fake is not there.
//
//   node --test tests/openai_client/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import OpenAI from 'openai';

import {
  accessToken, assertLedgerConsistent, balance, client, repo, startServer, stopChild, waitForLine,
} from './support.mjs';

const fakePath = path.join(repo, 'tests', 'fake_upstream', 'fake_openai.py');
const haveFake = existsSync(fakePath);
const CHAT_COST = 100;
const GRANT = 4000;

// One chatgate model per behaviour of the fake (chosen by the upstream model name).
function models(upstream) {
  const entry = (id, upstreamModel, maxRetries = 0) => ({
    id,
    provider: 'openai',
    base_url: `${upstream}/v1`,
    upstream_model: upstreamModel,
    max_completion_tokens: 256,
    max_retries: maxRetries,
    timeouts_ms: { connect: 2000, first_byte: 5000, idle: 5000, total: 20000 },
  });
  return [
    entry('fake-echo', 'echo::sdk'),
    entry('fake-slow', 'slow:20:sdk'),
    entry('fake-cut', 'cut::sdk'),
    entry('fake-500', 'error500::sdk'),
    entry('fake-500-retried', 'error500::sdk-retried', 2),
  ];
}

let fake;
let fakeUrl;
let fakeExited;
let server;
let base;

before(async () => {
  if (!haveFake) return;
  fake = spawn('/usr/bin/python3', [fakePath, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  fakeExited = new Promise((resolve) => fake.once('exit', (code, signal) => resolve({ code, signal })));
  const upstream = await waitForLine(fake, /^listening on (http:\/\/\S+)\s*$/m, 'fake upstream');
  fakeUrl = upstream;
  server = startServer({ CHATGATE_MODELS: JSON.stringify(models(upstream)) });
  base = await server.ready;
});

after(async () => {
  try {
    if (server) await server.stop();
  } finally {
    if (fake) await stopChild(fake, 'fake upstream', fakeExited);
  }
});

test('answers and usage come from the upstream, whole and streamed', { skip: !haveFake && 'no fake upstream' }, async () => {
  const token = await accessToken(base);
  const { openai } = client(base, token);
  const ids = (await openai.models.list()).data.map((m) => m.id);
  assert.deepEqual(ids, ['fake-echo', 'fake-slow', 'fake-cut', 'fake-500', 'fake-500-retried']);

  const completion = await openai.chat.completions.create({
    model: 'fake-echo',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello there' },
    ],
  });
  assert.equal(completion.choices[0].message.content, 'echo: hello there (turns: 2)');
  assert.equal(completion.usage.completion_tokens, 5, 'the upstream\'s usage: one token per word');

  const stream = await openai.chat.completions.create({
    model: 'fake-slow',
    messages: [{ role: 'user', content: 'one two three' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let deltas = 0;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.content) deltas += 1;
      text += choice.delta.content ?? '';
    }
  }
  assert.equal(text, 'echo: one two three (turns: 1)');
  assert.ok(deltas > 1, 'the answer arrived in pieces');
  assert.equal(usage.completion_tokens, 6);
  assert.equal(await balance(base, token), GRANT - 2 * CHAT_COST);
  await assertLedgerConsistent(base, token);
});

test('upstream failures are the library\'s errors, also midway through a stream', { skip: !haveFake && 'no fake upstream' }, async () => {
  const token = await accessToken(base);
  const { openai } = client(base, token);

  await assert.rejects(
    openai.chat.completions.create({ model: 'fake-500', messages: [{ role: 'user', content: 'hi' }] }, { maxRetries: 0 }),
    (err) => {
      assert.ok(err instanceof OpenAI.InternalServerError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 502);
      assert.equal(err.code, 'upstream_error');
      assert.doesNotMatch(err.message, /crashed|sk-/, 'no upstream text reaches the client');
      return true;
    },
  );
  assert.equal(await balance(base, token), GRANT, 'a failure before any text costs nothing');

  const stream = await openai.chat.completions.create({
    model: 'fake-cut',
    messages: [{ role: 'user', content: 'a b c d e f g h' }],
    stream: true,
  });
  let text = '';
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })(),
    (err) => {
      assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.type, 'server_error');
      return true;
    },
  );
  assert.ok(text.length > 0, 'part of the answer arrived before the error');
  const left = await balance(base, token);
  assert.ok(left >= GRANT - CHAT_COST && left < GRANT, `billed once for what was delivered (balance ${left})`);
  await assertLedgerConsistent(base, token);
});

test('after chatgate\'s own retries the library does not retry on top', { skip: !haveFake && 'no fake upstream' }, async () => {
  const token = await accessToken(base);
  const { openai } = client(base, token);  // the library's default: up to 2 retries
  await assert.rejects(
    openai.chat.completions.create({ model: 'fake-500-retried', messages: [{ role: 'user', content: 'hi' }] }),
    (err) => {
      assert.equal(err.status, 502);
      assert.equal(err.headers?.get?.('x-should-retry') ?? err.headers?.['x-should-retry'], 'false');
      return true;
    },
  );
  const stats = await (await fetch(`${fakeUrl}/_stats`)).json();
  assert.equal(stats.requests['error500::sdk-retried'], 3, 'chatgate\'s three attempts, and no more');
  assert.equal(await balance(base, token), GRANT);
  await assertLedgerConsistent(base, token);
});
