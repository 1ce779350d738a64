// Tool calling and structured output through chatgate's /v1 with the libraries applications
// use, unchanged: the official `openai` package, the Vercel AI SDK (`ai` + `@ai-sdk/openai`)
// and LangChain JS (`@langchain/openai`). chatgate talks to the fake OpenAI-compatible
// upstream, which answers a request with tools by calling them. Every case ends with the
// ledger check.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, generateText, jsonSchema, streamText, tool } from 'ai';
import { z } from 'zod';

import {
  accessToken, assertLedgerConsistent, balance, client, fakeModel, haveFakeUpstream, fakeDeployment,
} from './support.mjs';

const GRANT = 4000;
const PER_MESSAGE = 10;
const PRICE = { per_message: PER_MESSAGE, per_1k_prompt_tokens: 0, per_1k_completion_tokens: 1000 };

const deployment = fakeDeployment((upstream) => [
  fakeModel(upstream, 'fake-tools', 'echo::tools', { price: PRICE }),
  fakeModel(upstream, 'fake-plain', 'echo::plain', { capabilities: ['chat'] }),
], {
  CHATGATE_RATE_LIMIT_ENABLED: 'true',
  CHATGATE_RATE_LIMITS: 'chat=1000/1m,register=1000/1h,login=1000/1m,read=1000/1m',
});

const skip = !haveFakeUpstream && 'no fake upstream';
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

test('openai: a tool call, its result, and the answer', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const messages = [{ role: 'user', content: 'Paris' }];
  const first = await openai.chat.completions.create({ model: 'fake-tools', messages, tools: [weather] });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  let spent = PER_MESSAGE + first.usage.completion_tokens;
  assert.equal(await balance(deployment.base, token), GRANT - spent, 'billed like text');

  messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny' });
  const second = await openai.chat.completions.create({ model: 'fake-tools', messages, tools: [weather] });
  assert.equal(second.choices[0].message.content, 'echo: tool said sunny (turns: 3)');
  spent += PER_MESSAGE + second.usage.completion_tokens;
  assert.equal(await balance(deployment.base, token), GRANT - spent);
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: the x-ratelimit-* headers the library reads', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const { response } = await openai.chat.completions
    .create({ model: 'fake-plain', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  assert.equal(response.headers.get('x-ratelimit-limit-requests'), '1000');
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '999');
  assert.match(response.headers.get('x-ratelimit-reset-requests'), /^\d+(m\d+)?s$/);
  assert.equal(response.headers.get('ratelimit-limit'), '1000');
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: streamed tool calls assemble with the library\'s stream helper', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const timeTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } };
  const stream = openai.chat.completions.stream({
    model: 'fake-tools',
    messages: [{ role: 'user', content: 'Oslo' }],
    tools: [weather, timeTool],
    stream_options: { include_usage: true },
  });
  const fragments = [];
  stream.on('tool_calls.function.arguments.delta', (event) => fragments.push(event.arguments_delta));
  const done = await stream.finalChatCompletion();
  const calls = done.choices[0].message.tool_calls;
  assert.deepEqual(calls.map((c) => c.function.name), ['get_weather', 'get_time']);
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: 'Oslo' });
  assert.deepEqual(JSON.parse(calls[1].function.arguments), { zone: 'Oslo' });
  assert.ok(fragments.length > 2, 'the arguments came in pieces');
  assert.equal(done.choices[0].finish_reason, 'tool_calls');
  assert.equal(await balance(deployment.base, token), GRANT - PER_MESSAGE - done.usage.completion_tokens);
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: tools on a model without the capability are a 400 naming it', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  await assert.rejects(
    openai.chat.completions.create({ model: 'fake-plain', messages: [{ role: 'user', content: 'x' }], tools: [weather] }),
    (err) => err.status === 400 && err.param === 'tools' && /does not support tools/.test(err.message),
  );
  assert.equal(await balance(deployment.base, token), GRANT);
  await assertLedgerConsistent(deployment.base, token);
});

function aiSdk(token) {
  return createOpenAI({ baseURL: `${deployment.base}/v1`, apiKey: token });
}

const weatherTool = () => tool({
  description: 'The weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

test('AI SDK (chat model): generateText and streamText call tools', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const openai = aiSdk(token);
  const result = await generateText({ model: openai.chat('fake-tools'), prompt: 'Rome', tools: { get_weather: weatherTool() } });
  assert.equal(result.toolCalls.length, 1);
  assert.equal(result.toolCalls[0].toolName, 'get_weather');
  assert.deepEqual(result.toolCalls[0].input, { city: 'Rome' });
  assert.equal(result.toolResults[0].output, 'sunny in Rome');

  const streamed = streamText({ model: openai.chat('fake-tools'), prompt: 'Kyiv', tools: { get_weather: weatherTool() } });
  const parts = [];
  for await (const part of streamed.fullStream) parts.push(part.type);
  assert.ok(parts.includes('tool-input-delta'), parts.join());
  const calls = await streamed.toolCalls;
  assert.deepEqual(calls[0].input, { city: 'Kyiv' });
  await assertLedgerConsistent(deployment.base, token);
});

test('AI SDK (chat model): generateObject follows the schema', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const openai = aiSdk(token);
  const { object } = await generateObject({
    model: openai.chat('fake-tools'),
    schema: z.object({ name: z.string(), age: z.number() }),
    prompt: 'Ada',
  });
  assert.deepEqual(object, { name: 'Ada', age: 42 });
  await assertLedgerConsistent(deployment.base, token);
});

test('LangChain: bindTools, withStructuredOutput and streaming', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const model = new ChatOpenAI({ model: 'fake-tools', apiKey: token, configuration: { baseURL: `${deployment.base}/v1` }, maxRetries: 0 });
  const withTools = model.bindTools([{ name: 'get_weather', description: 'The weather', schema: z.object({ city: z.string() }) }]);
  const message = await withTools.invoke('Lima');
  assert.equal(message.tool_calls.length, 1);
  assert.equal(message.tool_calls[0].name, 'get_weather');
  assert.deepEqual(message.tool_calls[0].args, { city: 'Lima' });

  const structured = model.withStructuredOutput(z.object({ title: z.string(), pages: z.number() }), { name: 'book' });
  assert.deepEqual(await structured.invoke('Dune'), { title: 'Dune', pages: 42 });

  let text = '';
  for await (const chunk of await model.stream('streamed hello')) text += chunk.content;
  assert.equal(text, 'echo: streamed hello (turns: 1)');

  let args = '';
  for await (const chunk of await withTools.stream('Quito')) {
    for (const piece of chunk.tool_call_chunks ?? []) args += piece.args ?? '';
  }
  assert.deepEqual(JSON.parse(args), { city: 'Quito' });
  await assertLedgerConsistent(deployment.base, token);
});
