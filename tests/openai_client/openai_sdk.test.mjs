// The official OpenAI client library (npm `openai`) against chatgate's /v1, unchanged: the base
// URL is <server>/v1 and the API key a chatgate access token. The test starts its own chatgate
// on a free port with a fresh data directory and stops it by PID afterwards.
//
//   node --test tests/openai_client/
//
// Env: CHATGATE_SERVER (default <repo>/build/chatgate).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import OpenAI from 'openai';

import { accessToken, assertLedgerConsistent, balance, client, startServer } from './support.mjs';

// Sign-up grant for this server: three chats at the default price of 100, then a short balance.
const GRANT = 350;
const CHAT_COST = 100;
const DUMMY_RESPONSE = 'This is a dummy response.';

// ---------------------------------------------------------------------------------------------

let server;
let base;
let token;

before(async () => {
  server = startServer({ CHATGATE_SIGNUP_GRANT_TOKENS: String(GRANT) });
  base = await server.ready;
  token = await accessToken(base);
});

after(async () => {
  if (server) await server.stop();
});

test('models.list() and models.retrieve()', async () => {
  const { openai } = client(base, token);
  const ids = [];
  for await (const model of openai.models.list()) {
    assert.equal(model.object, 'model');
    assert.equal(typeof model.created, 'number');
    assert.equal(typeof model.owned_by, 'string');
    ids.push(model.id);
  }
  assert.ok(ids.length >= 1, 'at least one model');
  const first = await openai.models.retrieve(ids[0]);
  assert.equal(first.id, ids[0]);
});

test('chat.completions.create(): whole, then streamed, each billed once', async () => {
  const { openai } = client(base, token);
  const model = (await openai.models.list()).data[0].id;
  const before = await balance(base, token);

  const completion = await openai.chat.completions.create({
    model,
    messages: [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'Hello!' },
    ],
    max_completion_tokens: 64,
    temperature: 0.3,
  });
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, model);
  assert.equal(completion.choices.length, 1);
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].message.content, DUMMY_RESPONSE);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  const { prompt_tokens, completion_tokens, total_tokens } = completion.usage;
  assert.equal(total_tokens, prompt_tokens + completion_tokens);
  assert.equal(await balance(base, token), before - CHAT_COST);

  const stream = await openai.chat.completions.create({
    model,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Stream, please.' }] }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let role = null;
  let finish = null;
  let usage = null;
  const ids = new Set();
  for await (const chunk of stream) {
    ids.add(chunk.id);
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      role ??= choice.delta.role ?? null;
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.equal(ids.size, 1, 'every chunk carries the same id');
  assert.equal(role, 'assistant');
  assert.equal(text, DUMMY_RESPONSE);
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens, JSON.stringify(usage));
  assert.equal(await balance(base, token), before - 2 * CHAT_COST);
  await assertLedgerConsistent(base, token);
});

test('errors surface as the library\'s error classes', async () => {
  const bad = client(base, 'not-a-chatgate-token');
  await assert.rejects(bad.openai.models.list(), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    return true;
  });

  const { openai } = client(base, token);
  const before = await balance(base, token);
  await assert.rejects(
    openai.chat.completions.create({ model: 'gpt-does-not-exist', messages: [{ role: 'user', content: 'hi' }] }),
    (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.code, 'model_not_found');
      assert.equal(err.param, 'model');
      return true;
    },
  );
  await assert.rejects(
    openai.chat.completions.create({
      model: (await openai.models.list()).data[0].id,
      messages: [{ role: 'user', content: 'hi' }],
      n: 2,
    }),
    (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.param, 'n');
      return true;
    },
  );
  assert.equal(await balance(base, token), before, 'refused requests cost nothing');
  await assertLedgerConsistent(base, token);
});

test('a short balance is a RateLimitError (insufficient_quota) the library does not retry', async () => {
  const fresh = await accessToken(base);
  const { openai, calls } = client(base, fresh);
  const model = (await openai.models.list()).data[0].id;
  const ask = (stream) => openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream });
  for (let i = 0; i < Math.floor(GRANT / CHAT_COST); i += 1) await ask(false);
  const left = GRANT % CHAT_COST;
  assert.equal(await balance(base, fresh), left);

  for (const stream of [false, true]) {
    calls.length = 0;
    await assert.rejects(ask(stream), (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.code, 'insufficient_quota');
      assert.equal(err.type, 'insufficient_quota');
      return true;
    });
    assert.deepEqual(calls, ['POST /v1/chat/completions'], 'sent once, not retried');
  }
  assert.equal(await balance(base, fresh), left);
  await assertLedgerConsistent(base, fresh);
});
