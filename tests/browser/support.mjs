// Helpers for the chat page and console tests: a chatgate of their own (port 0, fresh data
// directory, the fake upstream beside it and, when asked, the fake Stripe of the pytest suite,
// all stopped by PID), Chromium through
// playwright-core, the API seen from the test, screenshots and failure evidence.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverPath = process.env.CHATGATE_SERVER || path.join(repo, 'build', 'chatgate');
const browserPath = process.env.CHATGATE_BROWSER || '/usr/bin/chromium';
const fakePath = path.join(repo, 'tests', 'fake_upstream', 'fake_openai.py');
const fakeStripePath = path.join(repo, 'tests', 'integration', 'fake_stripe.py');
const STRIPE_SECRET_KEY = 'sk_test_chatgate_pages';
export const outputDir = process.env.CHATGATE_BROWSER_OUTPUT || path.join(repo, 'build', 'tests', 'browser-output');
export const haveBrowser = existsSync(browserPath);

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
export const UI_TIMEOUT_MS = 15_000;
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

function waitForLine(child, pattern, what, tail) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`no matching line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    function fail(why) {
      clearTimeout(timer);
      reject(new Error(`${what} did not start: ${why}\nstdout: ${out}\nstderr: ${tail()}`));
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

function startChild(command, args, env, pattern, what) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { tail = (tail + chunk).slice(-4000); });
  const ready = waitForLine(child, pattern, what, () => tail);
  async function stop() {
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
  return { ready, stop, tail: () => tail };
}

const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHATGATE_')));

/// The models the pages are tested with: the builtin one (the default) and four on the fake
/// upstream: one answering at once, one a word every 250 ms (to press Stop mid-stream), one
/// failing with 500 and one rate limited for 30 s.
function models(upstream) {
  const fake = (id, upstreamModel) => ({
    id,
    provider: 'openai',
    base_url: `${upstream}/v1`,
    upstream_model: upstreamModel,
    max_completion_tokens: 256,
    max_retries: 0,
    price: { per_message: 20, per_1k_prompt_tokens: 1000, per_1k_completion_tokens: 1000 },
    timeouts_ms: { connect: 2000, first_byte: 5000, idle: 5000, total: 60000 },
  });
  return [{ id: 'chatgate-builtin', provider: 'builtin' }, fake('fake-echo', 'echo::web'), fake('fake-slow', 'slow:250:web'),
    fake('fake-down', 'error500::web'), fake('fake-busy', 'ratelimit:30:web')];
}

/// The `stripe` configuration selling `prices` through the fake Stripe at `apiBase`.
function stripeConfig(apiBase, prices) {
  return {
    api_base: apiBase,
    secret_key_env: 'TEST_STRIPE_KEY',
    webhook_secret_env: 'TEST_STRIPE_WHSEC',
    prices,
    success_url: 'https://chat.example.com/paid',
    cancel_url: 'https://chat.example.com/shop',
  };
}

/// Before the file's tests: the fake upstream, chatgate and Chromium; after them, all stopped.
/// With `stripe` (a price table), the fake Stripe too, and chatgate sells those prices there;
/// `env` adds configuration (CHATGATE_... variables).
export function deployment({ stripe, env: extraEnv = {} } = {}) {
  const state = { base: null, browser: null, dataDir: null, webhookSecret: null };
  let fake;
  let fakeStripe;
  let server;
  before(async () => {
    if (!haveBrowser) return;
    mkdirSync(outputDir, { recursive: true });
    fake = startChild('/usr/bin/python3', [fakePath, '--port', '0'], cleanEnv(), /^listening on (http:\/\/\S+)\s*$/m, 'fake upstream');
    const upstream = await fake.ready;
    state.dataDir = mkdtempSync(path.join(tmpdir(), 'chatgate-web-'));
    // Access tokens that expire a minute after they are issued: the pages refresh them every
    // few seconds, so every test also runs through the silent rotation.
    const env = {
      ...cleanEnv(), CHATGATE_MODELS: JSON.stringify(models(upstream)), CHATGATE_ACCESS_TOKEN_LIFETIME_SECONDS: '61', ...extraEnv,
    };
    if (stripe) {
      state.webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
      fakeStripe = startChild('/usr/bin/python3', [fakeStripePath, '--secret-key', STRIPE_SECRET_KEY], cleanEnv(),
        /^listening on (http:\/\/\S+)\s*$/m, 'fake Stripe');
      Object.assign(env, {
        CHATGATE_STRIPE: JSON.stringify(stripeConfig(await fakeStripe.ready, stripe)),
        TEST_STRIPE_KEY: STRIPE_SECRET_KEY,
        TEST_STRIPE_WHSEC: state.webhookSecret,
      });
    }
    server = startChild(serverPath, ['serve', '--listen', '127.0.0.1:0', '--data-dir', state.dataDir], env,
      /^listening on (http:\/\/[^\s/]+:\d+)\s*$/m, 'chatgate');
    state.base = await server.ready;
    const { chromium } = await import('playwright-core');
    state.browser = await chromium.launch({
      executablePath: browserPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    try {
      if (state.browser) await state.browser.close();
    } finally {
      try {
        if (server) {
          const result = await server.stop();
          assert.equal(result.code, 0, `chatgate exited with ${JSON.stringify(result)}\nstderr: ${server.tail()}`);
        }
      } finally {
        try {
          if (fake) await fake.stop();
        } finally {
          if (fakeStripe) await fakeStripe.stop();
          if (state.dataDir) rmSync(state.dataDir, { recursive: true, force: true });
        }
      }
    }
  });
  return state;
}

/// A staff superuser made with the binary's createsuperuser on the running server's data.
export function createSuperuser(state, username, password) {
  const made = spawnSync(serverPath, ['createsuperuser', '--username', username, '--data-dir', state.dataDir], {
    env: { ...cleanEnv(), CHATGATE_SUPERUSER_PASSWORD: password },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(made.status, 0, `createsuperuser: ${made.stdout}\n${made.stderr}`);
}

export const newName = (prefix) => `${prefix}_${randomBytes(4).toString('hex')}`;
export const newPassword = () => `Qz7-${randomBytes(9).toString('base64url')}`;

/// The API as a client sees it, for the checks the test makes beside the page.
export async function request(base, method, route, { body, token } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + route, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function loginApi(base, username, password) {
  const login = await request(base, 'POST', '/api/login/', { body: { username, password } });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return login.body.access;
}

export async function ledgerOf(base, token) {
  const res = await request(base, 'GET', '/api/transactions/?page_size=100', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.next, null, 'one page holds the whole ledger');
  return res.body.results;
}

/// The balance equals the sum of the ledger (every money test ends with this check).
export async function assertLedgerConsistent(base, token) {
  const rows = await ledgerOf(base, token);
  const balance = await request(base, 'GET', '/api/tokens/', { token });
  assert.equal(rows.reduce((sum, r) => sum + r.delta, 0), balance.body.tokens, 'the ledger sums to the balance');
  return balance.body.tokens;
}

/// A page that reaches only the server under test, recording its console and errors. On a
/// failure of `body`, its screenshot and console log go to the output folder.
export async function withPage(state, name, viewport, body) {
  for (const stale of [`${name}-failure.png`, `${name}-failure-console.log`]) rmSync(path.join(outputDir, stale), { force: true });
  const context = await state.browser.newContext({ viewport });
  const origin = new URL(state.base).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const log = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (err) => log.push(`pageerror: ${err.message}`));
  try {
    await body(page, log);
    const violations = log.filter((line) => /Content Security Policy|pageerror/i.test(line));
    assert.deepEqual(violations, [], 'no CSP violation or uncaught error on the page');
  } catch (err) {
    await page.screenshot({ path: path.join(outputDir, `${name}-failure.png`), fullPage: true }).catch(() => {});
    writeFileSync(path.join(outputDir, `${name}-failure-console.log`), `${log.join('\n')}\n\n${err.stack}\n`);
    throw err;
  } finally {
    await context.close();
  }
}

/// Writes the page's screenshot, after checking that every visible form control there has a
/// label (a <label>, or aria-label / aria-labelledby).
export async function screenshot(page, name) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((c) => c.offsetParent !== null && c.type !== 'hidden')
    .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
    .map((c) => c.id || c.outerHTML));
  assert.deepEqual(unlabelled, [], `${name}: every form control has a label`);
  await page.screenshot({ path: path.join(outputDir, `${name}.png`) });
}

/// The number in the page's balance ("Balance: 4,000 tokens").
export async function shownBalance(page) {
  const text = await page.locator('#balance').innerText();
  return Number(text.replace(/[^0-9]/g, ''));
}
