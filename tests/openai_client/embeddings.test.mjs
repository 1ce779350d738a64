// POST /v1/embeddings with the official `openai` package, unchanged: floats and base64 (the
// library's default, decoded by it), arrays of inputs, dimensions; billed per 1000 input
// tokens from the upstream's usage, reserved first; refused on a model without the capability.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createOpenAI } from '@ai-sdk/openai';
import { embedMany } from 'ai';

import {
  accessToken, assertLedgerConsistent, balance, client, fakeModel, haveFakeUpstream, fakeDeployment,
} from './support.mjs';

const GRANT = 4000;
const PRICE = { per_message: 1, per_1k_prompt_tokens: 1000, per_1k_completion_tokens: 0 };

const deployment = fakeDeployment((upstream) => [
  fakeModel(upstream, 'fake-chat', 'echo::emb'),
  fakeModel(upstream, 'fake-embed', 'embed::emb', { capabilities: ['embeddings'], price: PRICE }),
  fakeModel(upstream, 'fake-embed-down', 'error500::emb', { capabilities: ['embeddings'], price: PRICE }),
]);

const skip = !haveFakeUpstream && 'no fake upstream';

test('openai: embeddings.create, floats and base64, billed on the usage', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  const floats = await openai.embeddings.create({ model: 'fake-embed', input: 'hello world', encoding_format: 'float' });
  assert.equal(floats.object, 'list');
  assert.equal(floats.model, 'fake-embed');
  assert.equal(floats.data[0].embedding.length, 8);
  assert.equal(floats.usage.prompt_tokens, 3);
  let spent = 1 + 3;  // per message, and 3 tokens at 1 per token
  assert.equal(await balance(deployment.base, token), GRANT - spent);

  // The library asks for base64 by default and decodes it.
  const many = await openai.embeddings.create({ model: 'fake-embed', input: ['one', 'two three'], dimensions: 4 });
  assert.equal(many.data.length, 2);
  assert.equal(many.data[1].embedding.length, 4);
  for (const value of many.data[1].embedding) {
    assert.ok(value >= 0 && value < 1, `${value}`);
  }
  spent += 1 + many.usage.prompt_tokens;
  assert.equal(await balance(deployment.base, token), GRANT - spent);
  await assertLedgerConsistent(deployment.base, token);
});

test('AI SDK: embedMany', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const openai = createOpenAI({ baseURL: `${deployment.base}/v1`, apiKey: token });
  const { embeddings, usage } = await embedMany({ model: openai.embedding('fake-embed'), values: ['a', 'b', 'c'] });
  assert.equal(embeddings.length, 3);
  assert.equal(embeddings[0].length, 8);
  assert.equal(usage.tokens, 3);
  await assertLedgerConsistent(deployment.base, token);
});

test('openai: embeddings refused by capability, and an upstream failure refunds in full', { skip }, async () => {
  const token = await accessToken(deployment.base);
  const { openai } = client(deployment.base, token);
  await assert.rejects(openai.embeddings.create({ model: 'fake-chat', input: 'x' }),
    (err) => err.status === 400 && err.param === 'model' && /does not support embeddings/.test(err.message));
  await assert.rejects(openai.embeddings.create({ model: 'fake-embed', input: '' }), (err) => err.status === 400 && err.param === 'input');
  const { openai: noRetry } = client(deployment.base, token);
  await assert.rejects(noRetry.embeddings.create({ model: 'fake-embed-down', input: 'x' }, { maxRetries: 0 }), (err) => err.status === 502);
  assert.equal(await balance(deployment.base, token), GRANT);
  await assertLedgerConsistent(deployment.base, token);
});
