// Anthropic's official library (`@anthropic-ai/sdk`), unchanged, against chatgate's
// /v1/messages with a chatgate access token as its API key (sent as x-api-key, or as a
// Bearer token): messages.create, streaming, tool use and Anthropic's error shapes. chatgate
// translates to its Chat Completions upstream (the fake). Each case ends with the ledger check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import Anthropic from '@anthropic-ai/sdk';

import {
  accessToken, assertLedgerConsistent, balance, fakeModel, haveFakeUpstream, REQUEST_TIMEOUT_MS, startFakeUpstream, startServer,
} from './support.mjs';

const GRANT = 4000;
const PER_MESSAGE = 10;
const PRICE = { per_message: PER_MESSAGE, per_1k_prompt_tokens: 0, per_1k_completion_tokens: 1000 };

let fake;
let server;
let base;

before(async () => {
  if (!haveFakeUpstream) return;
  fake = await startFakeUpstream();
  const models = [
    fakeModel(fake.url, 'claude-fake', 'echo::anthropic', { price: PRICE }),
    fakeModel(fake.url, 'claude-down', 'error500::anthropic', { price: PRICE }),
  ];
  server = startServer({ CHATGATE_MODELS: JSON.stringify(models) });
  base = await server.ready;
});

after(async () => {
  try {
    if (server) await server.stop();
  } finally {
    if (fake) await fake.stop();
  }
});

const skip = !haveFakeUpstream && 'no fake upstream';
const anthropic = (token, extra = {}) => new Anthropic({ baseURL: base, apiKey: token, timeout: REQUEST_TIMEOUT_MS, maxRetries: 0, ...extra });

test('messages.create with system, whole, with x-api-key and with a Bearer token', { skip }, async () => {
  const token = await accessToken(base);
  const message = await anthropic(token).messages.create({
    model: 'claude-fake', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }],
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(message.content[0].text, 'echo: hello there (turns: 2)');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, 5);
  assert.equal(await balance(base, token), GRANT - PER_MESSAGE - 5);

  const bearer = new Anthropic({ baseURL: base, apiKey: null, authToken: token, maxRetries: 0 });
  const again = await bearer.messages.create({ model: 'claude-fake', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(again.content[0].text, 'echo: hi (turns: 1)');
  await assertLedgerConsistent(base, token);
});

test('messages.stream: text deltas and the final message', { skip }, async () => {
  const token = await accessToken(base);
  const stream = anthropic(token).messages.stream({ model: 'claude-fake', max_tokens: 100, messages: [{ role: 'user', content: 'streamed words here' }] });
  let text = '';
  stream.on('text', (piece) => { text += piece; });
  const final = await stream.finalMessage();
  assert.equal(text, 'echo: streamed words here (turns: 1)');
  assert.equal(final.content[0].text, text);
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(await balance(base, token), GRANT - PER_MESSAGE - final.usage.output_tokens);
  await assertLedgerConsistent(base, token);
});

test('tool use, whole and streamed, and the tool_result turn', { skip }, async () => {
  const token = await accessToken(base);
  const client = anthropic(token);
  const tools = [{ name: 'get_weather', description: 'The weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
  const first = await client.messages.create({ model: 'claude-fake', max_tokens: 100, tools, messages: [{ role: 'user', content: 'Paris' }] });
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((block) => block.type === 'tool_use');
  assert.equal(use.name, 'get_weather');
  assert.deepEqual(use.input, { city: 'Paris' });

  const streamed = await client.messages.stream({ model: 'claude-fake', max_tokens: 100, tools, messages: [{ role: 'user', content: 'Rome' }] }).finalMessage();
  assert.deepEqual(streamed.content.find((block) => block.type === 'tool_use').input, { city: 'Rome' });
  assert.equal(streamed.stop_reason, 'tool_use');

  const answer = await client.messages.create({
    model: 'claude-fake', max_tokens: 100, tools,
    messages: [
      { role: 'user', content: 'Paris' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] },
    ],
  });
  assert.equal(answer.content[0].text, 'echo: tool said sunny (turns: 3)');
  await assertLedgerConsistent(base, token);
});

test('errors are Anthropic\'s: bad request, authentication, upstream failure refunded', { skip }, async () => {
  const token = await accessToken(base);
  const client = anthropic(token);
  await assert.rejects(client.messages.create({ model: 'claude-fake', messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.BadRequestError && err.error.type === 'error' && err.error.error.type === 'invalid_request_error');
  await assert.rejects(client.messages.create({ model: 'claude-fake', max_tokens: 10, top_k: 5, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err.status === 400 && /top_k/.test(err.message));
  await assert.rejects(anthropic('not-a-token').messages.create({ model: 'claude-fake', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.AuthenticationError && err.error.error.type === 'authentication_error');
  await assert.rejects(client.messages.create({ model: 'claude-down', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err.status === 502 && err.error.error.type === 'api_error');
  assert.equal(await balance(base, token), GRANT);
  await assertLedgerConsistent(base, token);
});
