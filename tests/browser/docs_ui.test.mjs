// Browser tests for the docs pages: Swagger UI at /api/docs/ (Authorize + try-it-out against a
// real access token) and ReDoc at /api/redoc/. The test starts its own chatgate on a free port
// with a fresh data directory and stops it by PID afterwards.
//
//   node --test tests/browser/
//
// Env: CHATGATE_SERVER (default <repo>/build/chatgate), CHATGATE_BROWSER (default /usr/bin/chromium).
// Skips cleanly when the browser is not installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverPath = process.env.CHATGATE_SERVER || path.join(repo, 'build', 'chatgate');
const browserPath = process.env.CHATGATE_BROWSER || '/usr/bin/chromium';
const haveBrowser = existsSync(browserPath);

const START_TIMEOUT_MS = 20_000;
const UI_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const TEST_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Server lifecycle

function startServer() {
  assert.ok(existsSync(serverPath), `chatgate binary not found at ${serverPath} (build it, or set CHATGATE_SERVER)`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chatgate-browser-'));
  // Run with the defaults (4000 sign-up tokens etc.): drop any CHATGATE_* settings of the caller.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHATGATE_')));
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
    child,
    dataDir,
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

async function postJson(base, route, body, headers = {}) {
  const res = await fetch(base + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

// Registers a fresh user and logs in; returns the access JWT.
async function accessToken(base) {
  const username = `browser_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const password = `Qz7-${randomBytes(9).toString('base64url')}`;
  const reg = await postJson(base, '/api/register/', { username, password });
  assert.equal(reg.status, 201, `register: ${JSON.stringify(reg.body)}`);
  const login = await postJson(base, '/api/login/', { username, password });
  assert.equal(login.status, 200, `login: ${JSON.stringify(login.body)}`);
  assert.equal(typeof login.body.access, 'string');
  assert.equal(login.body.access.split('.').length, 3, 'access token is a JWT');
  return login.body.access;
}

async function openApiDocument(base) {
  const res = await fetch(`${base}/api/schema/?format=json`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  assert.equal(res.status, 200, `GET /api/schema/?format=json: ${text.slice(0, 300)}`);
  const type = res.headers.get('content-type') || '';
  assert.match(type, /json/, `GET /api/schema/?format=json answered Content-Type ${type}: ${text.slice(0, 120)}`);
  return JSON.parse(text);
}

// ---------------------------------------------------------------------------------------------
// Shared fixture: one server and one browser for the file, started by the first test that runs.

let fixture = null; // Promise of the state below
let fixtureState = null; // set as soon as the server is spawned, so teardown works after a failed setup

function getFixture() {
  fixture ??= (async () => {
    const state = { server: startServer(), browser: null, base: null };
    fixtureState = state;
    state.base = await state.server.ready;
    const { chromium } = await import('playwright-core');
    state.browser = await chromium.launch({
      executablePath: browserPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    return state;
  })();
  return fixture;
}

after(async () => {
  if (!fixture) return;
  await fixture.catch(() => {});
  const state = fixtureState;
  if (!state) return;
  try {
    if (state.browser) await state.browser.close();
  } finally {
    await state.server.stop();
  }
});

// A page that can only reach the server under test (the docs must work offline), and that
// records uncaught page errors.
async function newPage(state) {
  const context = await state.browser.newContext();
  const origin = new URL(state.base).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { context, page, errors };
}

// ---------------------------------------------------------------------------------------------

test('Swagger UI: authorize with a bearer JWT and try out GET /api/tokens/', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!haveBrowser) {
    t.skip(`no browser at ${browserPath}`);
    return;
  }
  const state = await getFixture();
  const token = await accessToken(state.base);
  const { context, page, errors } = await newPage(state);
  try {
    const res = await page.goto(`${state.base}/api/docs/`);
    assert.equal(res.status(), 200);

    // The operation list has rendered from the schema.
    const operation = page
      .locator('.opblock.opblock-get')
      .filter({ has: page.locator('.opblock-summary-path[data-path="/api/tokens/"]') });
    await operation.waitFor({ state: 'visible' });
    assert.ok((await page.locator('.opblock').count()) > 1, 'several operations are listed');

    // Authorize with the access token.
    await page.locator('.scheme-container button.authorize').click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor({ state: 'visible' });
    const bearer = dialog.locator('input[aria-label="auth-bearer-value"]');
    await bearer.first().waitFor({ state: 'visible' });
    const bearerCount = await bearer.count();
    for (let i = 0; i < bearerCount; i += 1) await bearer.nth(i).fill(token);
    await dialog.locator('button.modal-btn.authorize').first().click();
    // Once applied, the dialog offers "Logout" instead of the input.
    await dialog.locator('button', { hasText: 'Logout' }).first().waitFor({ state: 'visible' });
    await dialog.locator('button.btn-done').first().click();
    await dialog.waitFor({ state: 'detached' });

    // Expand the operation, try it out, execute.
    await operation.locator('.opblock-summary-control').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();

    const live = operation.locator('.live-responses-table');
    const status = live.locator('.response .response-col_status').first();
    await status.waitFor({ state: 'visible' });
    assert.equal((await status.innerText()).trim(), '200');
    const body = live.locator('.response .response-col_description').first();
    await assertEventuallyContains(body, '"tokens": 4000');

    assert.deepEqual(errors, [], 'no uncaught errors on the page');
  } finally {
    await context.close();
  }
});

test('ReDoc renders the API title and an operation', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!haveBrowser) {
    t.skip(`no browser at ${browserPath}`);
    return;
  }
  const state = await getFixture();
  const doc = await openApiDocument(state.base);
  const title = doc?.info?.title;
  assert.ok(title, 'the OpenAPI document has info.title');
  const op = doc?.paths?.['/api/tokens/']?.get;
  assert.ok(op, 'the OpenAPI document has GET /api/tokens/');
  const opName = op.summary || op.operationId;
  assert.ok(opName, 'GET /api/tokens/ has a summary or operationId');

  const { context, page, errors } = await newPage(state);
  try {
    const res = await page.goto(`${state.base}/api/redoc/`);
    assert.equal(res.status(), 200);
    await page.locator('h1', { hasText: title }).first().waitFor({ state: 'visible' });
    await page.locator('h2', { hasText: opName }).first().waitFor({ state: 'visible' });
    // The side menu lists it too.
    await page.locator('[role="menuitem"], .menu-content li', { hasText: opName }).first().waitFor({ state: 'attached' });
    assert.deepEqual(errors, [], 'no uncaught errors on the page');
  } finally {
    await context.close();
  }
});

// Waits until the element's text contains `needle` (the response body can render a moment after
// the status), then asserts it, so a failure shows the actual text.
async function assertEventuallyContains(locator, needle) {
  try {
    await locator.filter({ hasText: needle }).waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  } catch {
    // Fall through to the assertion below for a readable message.
  }
  const text = await locator.innerText();
  assert.ok(text.includes(needle), `expected ${JSON.stringify(needle)} in the response, got:\n${text}`);
}
