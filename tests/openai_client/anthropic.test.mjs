// Anthropic's official library (`@anthropic-ai/sdk`), unchanged, against chatgate's
// /v1/messages with a chatgate access token as its API key (sent as x-api-key, or as a
// Bearer token): messages.create, streaming, tool use and Anthropic's error shapes, over a
// Chat Completions upstream and over an Anthropic one; and the `openai` library over an
// Anthropic upstream (the fake speaks both). Each case ends with the ledger check.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import {
  accessToken, assertLedgerConsistent, balance, fakeModel, haveFakeUpstream, REQUEST_TIMEOUT_MS, fakeDeployment,
} from './support.mjs';

const GRANT = 4000;
const PER_MESSAGE = 10;
const PRICE = { per_message: PER_MESSAGE, per_1k_prompt_tokens: 0, per_1k_completion_tokens: 1000 };

const deployment = fakeDeployment((upstream) => [
  fakeModel(upstream, 'claude-fake', 'echo::anthropic', { price: PRICE }),
  fakeModel(upstream, 'claude-down', 'error500::anthropic', { price: PRICE }),
  // Anthropic-protocol upstreams (the fake's /v1/messages), with a key of their own.
  fakeModel(upstream, 'claude-up', 'echo::up', { provider: 'anthropic', price: PRICE, api_key_env: 'FAKE_ANTHROPIC_KEY' }),
  fakeModel(upstream, 'claude-up-cut', 'cut::up', { provider: 'anthropic', price: PRICE }),
  fakeModel(upstream, 'claude-up-busy', 'overloaded::up', { provider: 'anthropic', price: PRICE }),
], { FAKE_ANTHROPIC_KEY: 'sk-ant-fake-key-0001' });

const skip = !haveFakeUpstream && 'no fake upstream';
const anthropic = (token, extra = {}) => new Anthropic({ baseURL: deployment.base, apiKey: token, timeout: REQUEST_TIMEOUT_MS, maxRetries: 0, ...extra });

test('messages.create with system, whole, with x-api-key and with a Bearer token', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const message = await anthropic(token).messages.create({
    model: 'claude-fake', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }],
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(message.content[0].text, 'echo: hello there (turns: 2)');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, 5);
  assert.equal(await balance(deployment.base, token), GRANT - PER_MESSAGE - 5);

  const bearer = new Anthropic({ baseURL: deployment.base, apiKey: null, authToken: token, maxRetries: 0 });
  const again = await bearer.messages.create({ model: 'claude-fake', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(again.content[0].text, 'echo: hi (turns: 1)');
  await assertLedgerConsistent(deployment.base, token);
});

test('messages.stream: text deltas and the final message', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const stream = anthropic(token).messages.stream({ model: 'claude-fake', max_tokens: 100, messages: [{ role: 'user', content: 'streamed words here' }] });
  let text = '';
  stream.on('text', (piece) => { text += piece; });
  const final = await stream.finalMessage();
  assert.equal(text, 'echo: streamed words here (turns: 1)');
  assert.equal(final.content[0].text, text);
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(await balance(deployment.base, token), GRANT - PER_MESSAGE - final.usage.output_tokens);
  await assertLedgerConsistent(deployment.base, token);
});

test('tool use, whole and streamed, and the tool_result turn', { skip }, async () => {
  const token = await accessToken(deployment.base);
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
  await assertLedgerConsistent(deployment.base, token);
});

test('errors are Anthropic\'s: bad request, authentication, upstream failure refunded', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const client = anthropic(token);
  await assert.rejects(client.messages.create({ model: 'claude-fake', messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.BadRequestError && err.error.type === 'error' && err.error.error.type === 'invalid_request_error');
  await assert.rejects(client.messages.create({ model: 'claude-fake', max_tokens: 10, top_k: 5, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err.status === 400 && /top_k/.test(err.message));
  await assert.rejects(anthropic('not-a-token').messages.create({ model: 'claude-fake', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.AuthenticationError && err.error.error.type === 'authentication_error');
  await assert.rejects(client.messages.create({ model: 'claude-down', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err.status === 502 && err.error.error.type === 'api_error');
  assert.equal(await balance(deployment.base, token), GRANT);
  await assertLedgerConsistent(deployment.base, token);
});

async function upstreamCall(model) {
  const res = await fetch(`${deployment.upstream}/_stats`);
  const stats = await res.json();
  return { body: stats.last_body[model], headers: stats.last_authorization[model] };
}

test('an Anthropic upstream through the openai library: whole, streamed, tools', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const openai = new OpenAI({ baseURL: `${deployment.base}/v1`, apiKey: token, maxRetries: 0 });
  const completion = await openai.chat.completions.create({
    model: 'claude-up', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello' }], temperature: 0.2, stop: 'END',
  });
  assert.equal(completion.choices[0].message.content, 'echo: hello (turns: 2)');
  assert.equal(completion.usage.completion_tokens, 4);
  let spent = PER_MESSAGE + 4;
  const sent = await upstreamCall('echo::up');
  assert.equal(sent.headers, 'x-api-key=sk-ant-fake-key-0001 anthropic-version=2023-06-01');
  assert.equal(sent.body.system, 'Be brief.');
  assert.deepEqual(sent.body.stop_sequences, ['END']);
  assert.equal(sent.body.temperature, 0.2);
  assert.equal(sent.body.max_tokens, 256);

  const stream = openai.chat.completions.stream({ model: 'claude-up', messages: [{ role: 'user', content: 'one two three' }], stream_options: { include_usage: true } });
  const done = await stream.finalChatCompletion();
  assert.equal(done.choices[0].message.content, 'echo: one two three (turns: 1)');
  spent += PER_MESSAGE + done.usage.completion_tokens;

  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const call = await openai.chat.completions.create({ model: 'claude-up', messages: [{ role: 'user', content: 'Oslo' }], tools });
  assert.equal(call.choices[0].finish_reason, 'tool_calls');
  const [toolCall] = call.choices[0].message.tool_calls;
  assert.deepEqual(JSON.parse(toolCall.function.arguments), { city: 'Oslo' });
  spent += PER_MESSAGE + call.usage.completion_tokens;
  const streamedCall = await openai.chat.completions.stream({ model: 'claude-up', messages: [{ role: 'user', content: 'Kyiv' }], tools, stream_options: { include_usage: true } }).finalChatCompletion();
  assert.deepEqual(JSON.parse(streamedCall.choices[0].message.tool_calls[0].function.arguments), { city: 'Kyiv' });
  spent += PER_MESSAGE + streamedCall.usage.completion_tokens;

  const answer = await openai.chat.completions.create({
    model: 'claude-up', tools,
    messages: [{ role: 'user', content: 'Oslo' }, call.choices[0].message, { role: 'tool', tool_call_id: toolCall.id, content: 'cold' }],
  });
  assert.equal(answer.choices[0].message.content, 'echo: tool said cold (turns: 3)');
  const translated = (await upstreamCall('echo::up')).body.messages;
  assert.equal(translated[1].content[0].type, 'tool_use');
  assert.equal(translated[2].content[0].type, 'tool_result');
  spent += PER_MESSAGE + answer.usage.completion_tokens;
  assert.equal(await balance(deployment.base, token), GRANT - spent);
  await assertLedgerConsistent(deployment.base, token);
});

test('an Anthropic upstream behind /v1/messages, and its failures', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const client = anthropic(token);
  const final = await client.messages.stream({ model: 'claude-up', max_tokens: 50, messages: [{ role: 'user', content: 'round trip' }] }).finalMessage();
  assert.equal(final.content[0].text, 'echo: round trip (turns: 1)');
  let spent = PER_MESSAGE + final.usage.output_tokens;
  assert.equal(await balance(deployment.base, token), GRANT - spent);

  await assert.rejects(client.messages.create({ model: 'claude-up-busy', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err.status === 502);
  assert.equal(await balance(deployment.base, token), GRANT - spent, 'a refused upstream costs nothing');

  const cut = client.messages.stream({ model: 'claude-up-cut', max_tokens: 50, messages: [{ role: 'user', content: 'a b c d e f g h' }] });
  await assert.rejects(cut.finalMessage());
  const after = await balance(deployment.base, token);
  assert.ok(after < GRANT - spent && after > GRANT - spent - PER_MESSAGE - 20, `billed ${GRANT - spent - after} for the cut stream`);
  await assertLedgerConsistent(deployment.base, token);
});
