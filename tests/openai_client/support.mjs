// Helpers for the OpenAI client library tests: a chatgate of their own (port 0, fresh data
// directory, stopped by PID), accounts, balances and the ledger check.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import OpenAI from 'openai';

// Node 18 (Debian 12's) has Web Crypto only as node:crypto's `webcrypto`, not as the global
// `crypto` that Node 19+ and browsers have; LangChain's tracing ids call the global.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverPath = process.env.CHATGATE_SERVER || path.join(repo, 'build', 'chatgate');

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 20_000;

/// Waits for a child's stdout line matching `pattern`; resolves with the first group.
export function waitForLine(child, pattern, what, stderrTail = () => '') {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`no matching line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    function fail(why) {
      clearTimeout(timer);
      reject(new Error(`${what} did not start: ${why}\nstdout: ${out}\nstderr: ${stderrTail()}`));
    }
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
}

/// Stops a child we started, by its PID: SIGTERM, then SIGKILL after a deadline (an error).
export async function stopChild(child, what, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  process.kill(child.pid, 'SIGTERM');
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS); });
  const result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (result === null) {
    process.kill(child.pid, 'SIGKILL');
    await exited;
    throw new Error(`${what} (pid ${child.pid}) did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
  }
  return result;
}

/// A chatgate with the defaults plus `env` (any CHATGATE_* of the caller is dropped).
export function startServer(env = {}) {
  assert.ok(existsSync(serverPath), `chatgate binary not found at ${serverPath} (build it, or set CHATGATE_SERVER)`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chatgate-openai-'));
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHATGATE_')));
  Object.assign(childEnv, env);
  const child = spawn(serverPath, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderrTail = (stderrTail + chunk).slice(-4000); });
  const ready = waitForLine(child, /^listening on (http:\/\/[^\s/]+:\d+)\s*$/m, 'chatgate', () => stderrTail);
  return {
    ready,
    async stop() {
      try {
        const result = await stopChild(child, 'chatgate', exited);
        assert.equal(result.code, 0, `chatgate exited with ${JSON.stringify(result)} after SIGTERM\nstderr: ${stderrTail}`);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export async function request(base, method, route, { body, token } = {}) {
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

/// Registers a fresh user and logs in; returns the access JWT.
export async function accessToken(base) {
  const username = `sdk_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const password = `Qz7-${randomBytes(9).toString('base64url')}`;
  const reg = await request(base, 'POST', '/api/register/', { body: { username, password } });
  assert.equal(reg.status, 201, `register: ${JSON.stringify(reg.body)}`);
  const login = await request(base, 'POST', '/api/login/', { body: { username, password } });
  assert.equal(login.status, 200, `login: ${JSON.stringify(login.body)}`);
  return login.body.access;
}

export async function balance(base, token) {
  const res = await request(base, 'GET', '/api/tokens/', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.tokens;
}

/// The balance equals the sum of the ledger (every money test ends with this check).
export async function assertLedgerConsistent(base, token) {
  const res = await request(base, 'GET', '/api/transactions/?page_size=100', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.next, null, 'one page holds the whole ledger');
  const sum = res.body.results.reduce((total, row) => total + row.delta, 0);
  assert.equal(sum, await balance(base, token), 'the ledger sums to the balance');
}

/// The library pointed at chatgate's /v1; `calls` lists the requests it sent (to see retries).
export function client(base, apiKey) {
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

const fakeUpstreamPath = path.join(repo, 'tests', 'fake_upstream', 'fake_openai.py');
export const haveFakeUpstream = existsSync(fakeUpstreamPath);

/// The fake OpenAI-compatible upstream (its own process, port 0); `url` is its base URL.
export async function startFakeUpstream() {
  const child = spawn('/usr/bin/python3', [fakeUpstreamPath, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await waitForLine(child, /^listening on (http:\/\/\S+)\s*$/m, 'fake upstream');
  return { url, stop: () => stopChild(child, 'fake upstream', exited) };
}

/// One chatgate model entry going to the fake upstream, whose behaviour `upstreamModel` names.
export function fakeModel(upstream, id, upstreamModel, overrides = {}) {
  return {
    id,
    provider: 'openai',
    base_url: `${upstream}/v1`,
    upstream_model: upstreamModel,
    max_completion_tokens: 256,
    max_retries: 0,
    timeouts_ms: { connect: 2000, first_byte: 5000, idle: 5000, total: 20000 },
    ...overrides,
  };
}

/// Before the file's tests, the fake upstream and a chatgate selling `models(upstreamUrl)` (with
/// `env` besides); after them, both stopped. `base` is chatgate's URL once started (nothing
/// starts without the fake upstream: the tests skip then), `upstream` the fake's.
export function fakeDeployment(models, env = {}) {
  const deployment = { base: undefined, upstream: undefined };
  let fake;
  let server;
  before(async () => {
    if (!haveFakeUpstream) return;
    fake = await startFakeUpstream();
    deployment.upstream = fake.url;
    server = startServer({ CHATGATE_MODELS: JSON.stringify(models(fake.url)), ...env });
    deployment.base = await server.ready;
  });
  after(async () => {
    try {
      if (server) await server.stop();
    } finally {
      if (fake) await fake.stop();
    }
  });
  return deployment;
}
