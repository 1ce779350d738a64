// The Responses API (POST /v1/responses) with the libraries that use it, unchanged: the
// official `openai` package (`responses.create`, whole and streamed) and the Vercel AI SDK's
// default model `openai(model)`, whose generateText / streamText / generateObject speak it.
// chatgate translates to its Chat Completions upstream (the fake). Each case ends with the
// ledger check.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

import {
  accessToken, assertLedgerConsistent, balance, client, fakeModel, haveFakeUpstream, fakeDeployment,
} from './support.mjs';

const GRANT = 4000;
const PER_MESSAGE = 10;
const PRICE = { per_message: PER_MESSAGE, per_1k_prompt_tokens: 0, per_1k_completion_tokens: 1000 };

const deployment = fakeDeployment((upstream) => [
  fakeModel(upstream, 'fake-echo', 'echo::responses', { price: PRICE }),
  fakeModel(upstream, 'fake-cut', 'cut::responses', { price: PRICE }),
  fakeModel(upstream, 'fake-chatty', 'chatty::responses', { price: PRICE }),
]);

const skip = !haveFakeUpstream && 'no fake upstream';

test('openai: responses.create, whole', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const response = await openai.responses.create({ model: 'fake-echo', instructions: 'Be brief.', input: 'hello there' });
  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.equal(response.output_text, 'echo: hello there (turns: 2)');
  assert.equal(response.instructions, 'Be brief.');
  assert.equal(response.usage.output_tokens, 5);
  assert.equal(await balance(deployment.base, token), GRANT - PER_MESSAGE - 5);
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: responses.create, streamed, with the events the library reads', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const stream = await openai.responses.create({
    model: 'fake-echo', input: [{ role: 'user', content: [{ type: 'input_text', text: 'streamed words' }] }], stream: true,
  });
  const types = [];
  let text = '';
  let completed;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completed = event.response;
  }
  assert.equal(text, 'echo: streamed words (turns: 1)');
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  for (const t of ['response.output_item.added', 'response.content_part.added', 'response.output_text.done', 'response.output_item.done']) {
    assert.ok(types.includes(t), `${t} in ${types}`);
  }
  assert.equal(completed.output[0].content[0].text, text);
  assert.equal(await balance(deployment.base, token), GRANT - PER_MESSAGE - completed.usage.output_tokens);
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: function tools and their output items round trip', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
  const first = await openai.responses.create({ model: 'fake-echo', input: 'Paris', tools });
  const [call] = first.output.filter((item) => item.type === 'function_call');
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });

  const stream = openai.responses.stream({ model: 'fake-echo', input: 'Rome', tools });
  let args = '';
  stream.on('response.function_call_arguments.delta', (event) => { args += event.delta; });
  const streamed = await stream.finalResponse();
  assert.deepEqual(JSON.parse(args), { city: 'Rome' });
  assert.equal(streamed.output.find((item) => item.type === 'function_call').arguments, args);

  const second = await openai.responses.create({
    model: 'fake-echo',
    tools,
    input: [
      { role: 'user', content: 'Paris' },
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
    ],
  });
  assert.equal(second.output_text, 'echo: tool said sunny (turns: 3)');
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: a Responses stream cut by the upstream ends in response.failed, billed for what came', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const stream = await openai.responses.create({ model: 'fake-cut', input: 'one two three four five six seven eight', stream: true });
  const types = [];
  for await (const event of stream) types.push(event.type);
  assert.equal(types.at(-1), 'response.failed');
  const spent = GRANT - (await balance(deployment.base, token));
  assert.ok(spent > PER_MESSAGE && spent < PER_MESSAGE + 20, `billed ${spent}`);
  await assertLedgerConsistent(deployment.base, token);
});

test('AI SDK default model: generateText, streamText, tools and generateObject', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const openai = createOpenAI({ baseURL: `${deployment.base}/v1`, apiKey: token });
  const { text } = await generateText({ model: openai('fake-echo'), prompt: 'hi there' });
  assert.equal(text, 'echo: hi there (turns: 1)');

  const streamed = streamText({ model: openai('fake-echo'), prompt: 'stream me' });
  let joined = '';
  for await (const piece of streamed.textStream) joined += piece;
  assert.equal(joined, 'echo: stream me (turns: 1)');

  const withTools = await generateText({
    model: openai('fake-echo'),
    prompt: 'Lima',
    tools: { get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `warm in ${city}` }) },
    stopWhen: stepCountIs(2),
  });
  assert.equal(withTools.steps[0].toolCalls[0].toolName, 'get_weather');
  assert.deepEqual(withTools.steps[0].toolCalls[0].input, { city: 'Lima' });
  assert.equal(withTools.text, 'echo: tool said warm in Lima (turns: 3)');

  const { object } = await generateObject({ model: openai('fake-echo'), schema: z.object({ city: z.string(), days: z.number() }), prompt: 'Oslo' });
  assert.deepEqual(object, { city: 'Oslo', days: 42 });
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: stored responses: retrieve, continue with previous_response_id, delete, per user', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const first = await openai.responses.create({ model: 'fake-echo', instructions: 'Be brief.', input: 'first' });
  assert.equal(first.store, true);
  const again = await openai.responses.retrieve(first.id);
  assert.equal(again.output_text, first.output_text);

  const second = await openai.responses.create({ model: 'fake-echo', input: 'second', previous_response_id: first.id });
  assert.equal(second.previous_response_id, first.id);
  assert.equal(second.output_text, 'echo: second (turns: 3)', 'the stored turns came first');
  const streamed = await openai.responses.stream({ model: 'fake-echo', input: 'third', previous_response_id: second.id }).finalResponse();
  assert.equal(streamed.output_text, 'echo: third (turns: 5)');
  assert.equal((await openai.responses.retrieve(streamed.id)).output_text, streamed.output_text);

  const other = client(deployment.base, await accessToken(deployment.base)).openai;
  await assert.rejects(other.responses.retrieve(first.id), (err) => err.status === 404);
  await assert.rejects(other.responses.create({ model: 'fake-echo', input: 'x', previous_response_id: first.id }),
    (err) => err.status === 400 && err.param === 'previous_response_id');

  const unstored = await openai.responses.create({ model: 'fake-echo', input: 'secret', store: false });
  assert.equal(unstored.store, false);
  await assert.rejects(openai.responses.retrieve(unstored.id), (err) => err.status === 404);

  await openai.responses.delete(first.id);
  await assert.rejects(openai.responses.retrieve(first.id), (err) => err.status === 404);
  await assertLedgerConsistent(deployment.base, token);
});

test('AI SDK default model: a tool loop whose first step also says something (item references)', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const sentInputs = [];
  const openai = createOpenAI({
    baseURL: `${deployment.base}/v1`,
    apiKey: token,
    fetch: (url, init) => {
      sentInputs.push(JSON.parse(init.body).input);
      return fetch(url, init);
    },
  });
  const result = await generateText({
    model: openai('fake-chatty'),
    prompt: 'Lima',
    tools: { get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `warm in ${city}` }) },
    stopWhen: stepCountIs(2),
  });
  assert.equal(result.steps[0].text, 'Let me check.');
  // The library sent the first step's message as an item_reference; chatgate found it stored
  // and sent it upstream with its call, as one assistant turn.
  assert.ok(sentInputs[1].some((item) => item.type === 'item_reference'), JSON.stringify(sentInputs[1]));
  assert.equal(result.text, 'echo: tool said warm in Lima (turns: 3)');
  const sent = (await (await fetch(`${deployment.upstream}/_stats`)).json()).last_body['chatty::responses'].messages;
  assert.deepEqual(sent[1].content, [{ type: 'text', text: 'Let me check.' }]);
  assert.equal(sent[1].tool_calls[0].function.name, 'get_weather');
  await assertLedgerConsistent(deployment.base, token);
});
