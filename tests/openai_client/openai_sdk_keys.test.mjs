// The official OpenAI client library with a chatgate API key (`sk-cg-...`) as its apiKey:
// models, a whole and a streamed completion billed to the key's owner and counted against the
// key's token_limit, the limit refusing as quota exhaustion, and revocation at the next call.
//
//   node --test tests/openai_client/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import OpenAI from 'openai';

import { accessToken, assertLedgerConsistent, balance, client, request, startServer } from './support.mjs';

const CHAT_COST = 100;
const DUMMY_RESPONSE = 'This is a dummy response.';

let server;
let base;
let token;

before(async () => {
  server = startServer();
  base = await server.ready;
  token = await accessToken(base);
});

after(async () => {
  if (server) await server.stop();
});

async function createKey(fields) {
  const res = await request(base, 'POST', '/api/keys/', { token, body: { name: 'sdk', ...fields } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.match(res.body.key, /^sk-cg-/);
  return res.body;
}

async function spent(id) {
  const res = await request(base, 'GET', '/api/keys/', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.results.find((k) => k.id === id).spent;
}

test('an API key works as the library\'s apiKey, billed to its owner and its limit', async () => {
  const created = await createKey({ token_limit: 2 * CHAT_COST });
  const { openai } = client(base, created.key);
  const model = (await openai.models.list()).data[0].id;
  const before = await balance(base, token);

  const completion = await openai.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Hello!' }],
  });
  assert.equal(completion.choices[0].message.content, DUMMY_RESPONSE);

  const stream = await openai.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Hello again!' }], stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, DUMMY_RESPONSE);

  assert.equal(await balance(base, token), before - 2 * CHAT_COST);
  assert.equal(await spent(created.id), 2 * CHAT_COST);

  // The limit is used up: quota exhaustion, which the library does not retry.
  const { openai: limited, calls } = client(base, created.key);
  await assert.rejects(
    limited.chat.completions.create({ model, messages: [{ role: 'user', content: 'One more' }] }),
    (err) => err instanceof OpenAI.RateLimitError && err.code === 'insufficient_quota',
  );
  assert.equal(calls.length, 1, 'not retried');
  assert.equal(await balance(base, token), before - 2 * CHAT_COST);
  await assertLedgerConsistent(base, token);
});

test('a revoked key is refused at the next request', async () => {
  const created = await createKey({});
  const { openai } = client(base, created.key);
  await openai.models.list();
  const revoked = await fetch(`${base}/api/keys/${created.id}/`, {
    method: 'DELETE', headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(revoked.status, 204);
  const listed = await request(base, 'GET', '/api/keys/', { token });
  assert.ok(listed.body.results.find((k) => k.id === created.id).revoked_at, 'revoked');
  await assert.rejects(openai.models.list(), (err) => err instanceof OpenAI.AuthenticationError
    && err.code === 'invalid_api_key');
});
