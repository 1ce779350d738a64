// The official OpenAI client library (npm `openai`) against chatgate's /v1, unchanged: the base
// URL is <server>/v1 and the API key a chatgate access token. The test starts its own chatgate
// on a free port with a fresh data directory and stops it by PID afterwards.
//
//   node --test tests/openai_client/
//
// Env: CHATGATE_SERVER (default <repo>/build/chatgate).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import OpenAI from 'openai';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverPath = process.env.CHATGATE_SERVER || path.join(repo, 'build', 'chatgate');

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 20_000;
// Sign-up grant for this server: three chats at the default price of 100, then a short balance.
const GRANT = 350;
const CHAT_COST = 100;
const DUMMY_RESPONSE = 'This is a dummy response.';

// ---------------------------------------------------------------------------------------------
// Server lifecycle

function startServer() {
  assert.ok(existsSync(serverPath), `chatgate binary not found at ${serverPath} (build it, or set CHATGATE_SERVER)`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chatgate-openai-'));
  // Defaults apart from the grant: drop any CHATGATE_* settings of the caller.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHATGATE_')));
  env.CHATGATE_SIGNUP_GRANT_TOKENS = String(GRANT);
  const child = spawn(serverPath, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderrTail = (stderrTail + chunk).slice(-4000); });

  const ready = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`no "listening on" line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    function fail(why) {
      clearTimeout(timer);
      reject(new Error(`chatgate did not start: ${why}\nstdout: ${out}\nstderr: ${stderrTail}`));
    }
    child.once('error', (err) => fail(err.message));
    exited.then(({ code, signal }) => fail(`exited early (code ${code}, signal ${signal})`));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/^listening on (http:\/\/[^\s/]+:\d+)\s*$/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });

  return {
    ready,
    async stop() {
      try {
        if (child.exitCode === null && child.signalCode === null) {
          process.kill(child.pid, 'SIGTERM');
          let timer;
          const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS); });
          const result = await Promise.race([exited, timeout]);
          clearTimeout(timer);
          if (result === null) {
            process.kill(child.pid, 'SIGKILL');
            await exited;
            throw new Error(`chatgate (pid ${child.pid}) did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
          }
          assert.equal(result.code, 0, `chatgate exited with ${JSON.stringify(result)} after SIGTERM\nstderr: ${stderrTail}`);
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

async function request(base, method, route, { body, token } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + route, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, body: await res.json() };
}

// Registers a fresh user and logs in; returns the access JWT.
async function accessToken(base) {
  const username = `sdk_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const password = `Qz7-${randomBytes(9).toString('base64url')}`;
  const reg = await request(base, 'POST', '/api/register/', { body: { username, password } });
  assert.equal(reg.status, 201, `register: ${JSON.stringify(reg.body)}`);
  const login = await request(base, 'POST', '/api/login/', { body: { username, password } });
  assert.equal(login.status, 200, `login: ${JSON.stringify(login.body)}`);
  return login.body.access;
}

async function balance(base, token) {
  const res = await request(base, 'GET', '/api/tokens/', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.tokens;
}

// The balance equals the sum of the ledger (every money test ends with this check).
async function assertLedgerConsistent(base, token) {
  const res = await request(base, 'GET', '/api/transactions/?page_size=100', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.next, null, 'one page holds the whole ledger');
  const sum = res.body.results.reduce((total, row) => total + row.delta, 0);
  assert.equal(sum, await balance(base, token), 'the ledger sums to the balance');
}

// A client whose requests are counted, to show which ones the library retried.
function client(base, apiKey) {
  const calls = [];
  const openai = new OpenAI({
    baseURL: `${base}/v1`,
    apiKey,
    timeout: REQUEST_TIMEOUT_MS,
    fetch: (url, init) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(url).pathname}`);
      return fetch(url, init);
    },
  });
  return { openai, calls };
}

// ---------------------------------------------------------------------------------------------

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
