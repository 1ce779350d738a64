// The chat page at / in Chromium: a new person signs up, chats with the builtin model and with
// a streaming upstream (the fake), stops an answer mid-stream and sees what it cost, finds the
// conversation after a reload, makes an API key that works with the openai library until it
// is revoked, and is sent back to the login form when the session is revoked. The balance the
// page shows is checked against the ledger read through the API.
//
//   node --test tests/browser/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

import OpenAI from 'openai';

import {
  DESKTOP, PHONE, assertLedgerConsistent, deployment, haveBrowser, ledgerOf, loginApi, newName, newPassword,
  request, screenshot, shownBalance, withPage,
} from './support.mjs';

const state = deployment();
const SIGNUP_GRANT = 4000;
const skip = !haveBrowser && 'no browser';

async function signUp(page, base, username, password) {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Create an account instead' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#nav').waitFor({ state: 'visible' });
}

async function logIn(page, base, username, password) {
  await page.goto(`${base}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#nav').waitFor({ state: 'visible' });
}

/// Sends a message with `model` and waits for the answer's cost line.
async function chat(page, model, message) {
  await page.getByLabel('Model', { exact: true }).selectOption(model);
  await page.getByLabel('Message', { exact: true }).fill(message);
  const answers = page.locator('.msg.assistant');
  const before = await answers.count();
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = answers.nth(before);
  return answer;
}

/// Records in the page every text an answer's body shows, to see it grow as it streams in
/// (whatever the timing).
async function recordAnswerTexts(page) {
  await page.evaluate(() => {
    window.answerTexts = [];
    new MutationObserver(() => {
      const bodies = document.querySelectorAll('.msg.assistant .body');
      const text = bodies.length ? bodies[bodies.length - 1].textContent.trim() : '';
      if (window.answerTexts.at(-1) !== text) window.answerTexts.push(text);
    }).observe(document.querySelector('#messages'), { childList: true, subtree: true, characterData: true });
  });
}

/// What one exchange cost in the ledger: its reservation and the refund that settled it.
function exchangeCost(rows, charge) {
  const refund = rows.find((r) => r.kind === 'chat_refund' && r.reference === `settles chat charge ${charge.id}`);
  return -(charge.delta + (refund ? refund.delta : 0));
}

test('a person signs up, chats, stops an answer, reloads, and uses an API key', { skip, timeout: 120_000 }, async () => {
  const username = newName('web');
  const password = newPassword();
  await withPage(state, 'chat', DESKTOP, async (page) => {
    await page.goto(`${state.base}/`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.ok(await page.getByRole('link', { name: 'API docs' }).first().isVisible(), 'the API docs stay linked');
    await screenshot(page, 'login-desktop');

    await signUp(page, state.base, username, password);
    await page.locator('#balance', { hasText: '4,000' }).waitFor();
    const token = await loginApi(state.base, username, password);
    // The access token is renewed before it expires, silently, with a new refresh token.
    const rotated = page.waitForResponse((res) => res.url().endsWith('/api/token/refresh/') && res.status() === 200);

    // The builtin model: the answer, its cost, and the balance the ledger shows.
    const first = await chat(page, 'chatgate-builtin', 'hello there');
    await first.locator('.meta', { hasText: 'tokens' }).waitFor();
    assert.equal((await first.locator('.body').innerText()).trim(), 'This is a dummy response.');
    let rows = await ledgerOf(state.base, token);
    const firstCharge = rows.find((r) => r.kind === 'chat_charge');
    const firstCost = exchangeCost(rows, firstCharge);
    assert.match(await first.locator('.meta').innerText(), new RegExp(`chatgate-builtin · ${firstCost} tokens`));
    assert.equal(await shownBalance(page), SIGNUP_GRANT - firstCost);
    assert.equal(await shownBalance(page), await assertLedgerConsistent(state.base, token));

    // A streamed answer from the upstream, a word at a time: seen while it is still coming.
    const before = await shownBalance(page);
    await recordAnswerTexts(page);
    const streamed = await chat(page, 'fake-slow', 'one two three four five six');
    await streamed.locator('.meta', { hasText: 'tokens' }).waitFor();
    const final = (await streamed.locator('.body').innerText()).trim();
    assert.equal(final, 'echo: one two three four five six (turns: 3)');
    const seen = await page.evaluate(() => window.answerTexts);
    const partial = seen.filter((text) => text && text !== final);
    assert.ok(partial.length >= 3, `the answer was shown growing, piece by piece: ${JSON.stringify(seen)}`);
    for (const text of partial) assert.ok(final.startsWith(text), `${JSON.stringify(text)} is a start of the answer`);
    rows = await ledgerOf(state.base, token);
    const streamedCost = exchangeCost(rows, rows.find((r) => r.kind === 'chat_charge'));
    assert.match(await streamed.locator('.meta').innerText(), new RegExp(`fake-slow · ${streamedCost} tokens`));
    assert.equal(before - (await shownBalance(page)), streamedCost, 'the balance fell by what the ledger billed');
    await screenshot(page, 'chat-desktop');

    // Stop mid-stream: the part delivered is billed, and the page says how much.
    const long = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const stopped = await chat(page, 'fake-slow', long);
    await stopped.locator('.body', { hasText: 'echo: w0' }).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    const billedLine = stopped.locator('.meta', { hasText: 'Stopped. Billed' });
    await billedLine.waitFor();
    const billed = Number((await billedLine.innerText()).match(/Billed ([\d,]+) tokens/)[1].replace(/,/g, ''));
    rows = await ledgerOf(state.base, token);
    const stopCharge = rows.find((r) => r.kind === 'chat_charge');
    assert.equal(exchangeCost(rows, stopCharge), billed, 'the page shows what the ledger billed');
    assert.ok(billed < -stopCharge.delta, 'less than the reservation: only the part answered');
    assert.equal(await shownBalance(page), await assertLedgerConsistent(state.base, token));

    const pair = await (await rotated).json();
    assert.ok(pair.access && pair.refresh, 'a new pair');
    assert.ok(await page.locator('#nav').isVisible(), 'still logged in after the rotation');

    // After a reload the person is still logged in and the conversation is there.
    await page.reload();
    await page.locator('#nav').waitFor({ state: 'visible' });
    const conversation = page.locator('#conversations li').first();
    await conversation.locator('button.open').click();
    await page.locator('.msg.assistant').nth(2).locator('.meta', { hasText: 'stopped' }).waitFor();
    assert.equal(await page.locator('.msg.user').count(), 3);

    // An API key: shown once, works with the openai library, refused once revoked.
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name', { exact: true }).fill('laptop');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.locator('#new-key-value').innerText()).trim();
    assert.match(key, /^sk-cg-/);
    await screenshot(page, 'keys-desktop');
    const openai = new OpenAI({ baseURL: `${state.base}/v1`, apiKey: key, timeout: 20_000, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'chatgate-builtin', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(completion.choices[0].message.content, 'This is a dummy response.');
    const row = page.locator('#keys-table tr', { hasText: 'laptop' });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await row.locator('td', { hasText: 'revoked' }).waitFor();
    await assert.rejects(
      openai.chat.completions.create({ model: 'chatgate-builtin', messages: [{ role: 'user', content: 'hi' }] }),
      (err) => err.status === 401,
    );

    // The ledger page lists every row; the balance is their sum.
    await page.getByRole('link', { name: 'Ledger' }).click();
    rows = await ledgerOf(state.base, token);
    await page.locator('#ledger-table tbody tr').nth(rows.length - 1).waitFor();
    assert.equal(await page.locator('#ledger-table tbody tr').count(), rows.length);
    await screenshot(page, 'ledger-desktop');
    // Codes can always be redeemed; tokens are for sale only where payments are configured.
    await page.getByRole('form', { name: 'Redeem a code' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Buy tokens' }).count(), 0, 'nothing for sale without payments');
    // A top-up from the ledger page: its new row and the balance it shows.
    const topped = await shownBalance(page) + 1000;
    await page.getByRole('button', { name: 'Top up' }).click();
    await page.locator('#balance', { hasText: topped.toLocaleString('en-US') }).waitFor();
    await page.locator('#ledger-table tbody tr').first().locator('td', { hasText: 'top up' }).waitFor();
    rows = await ledgerOf(state.base, token);
    assert.equal(rows[0].kind, 'top_up');
    assert.equal(rows[0].delta, 1000);
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const csv = await readFile(await (await downloading).path(), 'utf8');
    assert.equal(csv.trim().split('\n').length, rows.length + 1, 'a header and every ledger row');
    await page.getByRole('link', { name: 'Password' }).click();
    await page.getByLabel('Current password').waitFor();
    await screenshot(page, 'password-desktop');
    assert.equal(await shownBalance(page), await assertLedgerConsistent(state.base, token));

    // A password change elsewhere ends this session: back to the login form, with words.
    const changed = await request(state.base, 'POST', '/api/password/', {
      token, body: { old_password: password, new_password: `${password}-new` },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    await page.getByRole('link', { name: 'Ledger' }).click();
    await page.locator('#auth-notice', { hasText: 'Your session has ended' }).waitFor();
    assert.ok(await page.getByRole('heading', { name: 'Log in' }).isVisible());

    // The next person to log in in this tab sees nothing of the last one.
    const next = { username: newName('next'), password: newPassword() };
    const made = await request(state.base, 'POST', '/api/register/', { body: next });
    assert.equal(made.status, 201);
    await logIn(page, state.base, next.username, next.password);
    await page.getByRole('link', { name: 'Chat', exact: true }).click();
    await page.locator('#empty-thread').waitFor();
    assert.equal(await page.locator('#conversations li').count(), 0);
    assert.equal(await page.locator('.msg').count(), 0);
    await page.locator('#balance', { hasText: '4,000' }).waitFor();
  });

  // The same pages at phone width.
  await withPage(state, 'chat-phone', PHONE, async (page) => {
    await page.goto(`${state.base}/`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await screenshot(page, 'login-phone');
    await logIn(page, state.base, username, `${password}-new`);
    await page.locator('#conversations li').first().locator('button.open').click();
    await page.locator('.msg.assistant').nth(2).waitFor();
    await screenshot(page, 'chat-phone');
    await page.getByRole('link', { name: 'Ledger' }).click();
    await page.locator('#ledger-table tbody tr').first().waitFor();
    await screenshot(page, 'ledger-phone');
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.locator('#keys-table tbody tr').first().waitFor();
    await screenshot(page, 'keys-phone');
    await page.getByRole('link', { name: 'Password' }).click();
    await page.getByLabel('Current password').waitFor();
    await screenshot(page, 'password-phone');
    await page.getByLabel('Current password').fill(`${password}-new`);
    await page.getByLabel('New password').fill(`${password}-newer`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#view-password .notice', { hasText: 'Every other session has been logged out' }).waitFor();
    await page.getByRole('link', { name: 'Ledger' }).click();
    await page.locator('#ledger-table tbody tr').first().waitFor();
    assert.ok(await page.locator('#nav').isVisible(), 'still logged in here with the new password');
    const token = await loginApi(state.base, username, `${password}-newer`);
    assert.equal(await shownBalance(page), await assertLedgerConsistent(state.base, token));
  });
});

test('a refresh token used twice ends the session: back to the login form, with words', { skip, timeout: 60_000 }, async () => {
  const username = newName('reuse');
  const password = newPassword();
  await withPage(state, 'chat-reuse', DESKTOP, async (page) => {
    await signUp(page, state.base, username, password);
    // Someone else uses the page's refresh token first: the page's own use is then reuse,
    // which revokes the session.
    const stolen = await page.evaluate(() => sessionStorage.getItem('chatgate.refresh'));
    const used = await request(state.base, 'POST', '/api/token/refresh/', { body: { refresh: stolen } });
    assert.equal(used.status, 200, JSON.stringify(used.body));
    await page.locator('#auth-notice', { hasText: 'Your session has ended' }).waitFor();
    assert.ok(await page.getByRole('heading', { name: 'Log in' }).isVisible());
    assert.equal(await page.evaluate(() => sessionStorage.getItem('chatgate.refresh')), null, 'the token is forgotten');
    const after = await request(state.base, 'POST', '/api/token/refresh/', { body: { refresh: used.body.refresh } });
    assert.equal(after.status, 401, 'the whole session is revoked');
  });
});

test('the chat page loads under 300 KB and is ready to log in quickly', { skip, timeout: 60_000 }, async (t) => {
  await withPage(state, 'chat-budget', DESKTOP, async (page) => {
    const bodies = [];
    page.on('response', (res) => bodies.push(res.body().then((b) => b).catch(() => Buffer.alloc(0))));
    const started = Date.now();
    await page.goto(`${state.base}/`);
    await page.getByLabel('Username').waitFor();
    const ready = Date.now() - started;
    await page.waitForLoadState('networkidle');
    const loaded = await Promise.all(bodies);
    const bytes = loaded.reduce((sum, b) => sum + b.length, 0);
    const gzipped = loaded.reduce((sum, b) => sum + gzipSync(b).length, 0);
    t.diagnostic(`first load: ${loaded.length} files, ${bytes} bytes as sent, ${gzipped} gzipped; login form after ${ready} ms`);
    assert.ok(bytes < 300 * 1024, `the first load is ${bytes} bytes`);
  });
});

test('errors are shown in words: provider unavailable, rate limited', { skip, timeout: 60_000 }, async () => {
  const username = newName('unlucky');
  const password = newPassword();
  await withPage(state, 'chat-errors', DESKTOP, async (page) => {
    // The API's password rules, in its words.
    await page.goto(`${state.base}/`);
    await page.getByRole('button', { name: 'Create an account instead' }).click();
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill('12345678');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#auth-notice', { hasText: 'This password is entirely numeric.' }).waitFor();
    assert.match(await page.locator('#auth-notice').innerText(), /^Password: /);
    await signUp(page, state.base, username, password);
    const token = await loginApi(state.base, username, password);
    await chat(page, 'fake-down', 'hello');
    await page.locator('#chat-notice', { hasText: 'The AI provider is unavailable right now. Nothing was charged.' }).waitFor();
    await chat(page, 'fake-busy', 'hello');
    await page.locator('#chat-notice', { hasText: 'Too many requests: please wait 30 seconds and try again.' }).waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /[{}]/, 'no raw JSON on the page');
    assert.equal(await assertLedgerConsistent(state.base, token), SIGNUP_GRANT, 'nothing was charged');
    assert.equal(await shownBalance(page), SIGNUP_GRANT);
  });
});

test('answers render as Markdown, sanitized; a conversation is deleted after confirmation', { skip, timeout: 60_000 }, async () => {
  const username = newName('md');
  const password = newPassword();
  await withPage(state, 'chat-markdown', DESKTOP, async (page, log) => {
    await signUp(page, state.base, username, password);
    const token = await loginApi(state.base, username, password);
    const answer = await chat(page, 'fake-echo', '**bold** and `code` <img src=x onerror="window.hacked=1">');
    await answer.locator('.meta', { hasText: 'tokens' }).waitFor();
    assert.equal(await answer.locator('.body strong').innerText(), 'bold');
    assert.equal(await answer.locator('.body code').innerText(), 'code');
    assert.equal(await answer.locator('.body [onerror]').count(), 0, 'event handlers are removed');
    assert.equal(await page.evaluate(() => window.hacked), undefined);
    // Chromium reports the handler each time DOMPurify parses the answer (once per rendering
    // while it streams; its parser document inherits the page's policy): refused twice over.
    // Those expected reports are taken out before the check that the page caused no other.
    const handler = /inline event handler violates .*script-src/;
    assert.ok(log.some((line) => handler.test(line)), `the CSP refused the inline handler: ${log.join('\n')}`);
    log.splice(0, log.length, ...log.filter((line) => !handler.test(line)));

    const item = page.locator('#conversations li').first();
    await item.getByRole('button', { name: /^Delete/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.locator('#empty-thread').waitFor();
    await page.locator('#conversations li').first().waitFor({ state: 'detached' });
    const left = await request(state.base, 'GET', '/api/conversations/', { token });
    assert.equal(left.body.count, 0);
    const balance = await assertLedgerConsistent(state.base, token);
    assert.equal(await shownBalance(page), balance, 'the ledger keeps what the deleted chat cost');
    assert.ok(balance < SIGNUP_GRANT);
  });
});

test('a message that costs more than the balance is refused before it is sent, with a top-up offered', { skip, timeout: 60_000 }, async () => {
  const username = newName('poor');
  const password = newPassword();
  await withPage(state, 'chat-short', DESKTOP, async (page) => {
    await signUp(page, state.base, username, password);
    const token = await loginApi(state.base, username, password);
    // fake-echo reserves 20 + the prompt + 256 completion tokens: spend down to below that.
    const account = await request(state.base, 'GET', '/api/account/', { token });
    assert.equal(account.body.top_up.enabled, true);
    const rows = await ledgerOf(state.base, token);
    assert.equal(rows.length, 1);
    await page.getByLabel('Model', { exact: true }).selectOption('fake-echo');
    await page.getByLabel('Message', { exact: true }).fill('x'.repeat(3800));
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#chat-notice', { hasText: 'your balance is 4,000' }).waitFor();
    assert.equal(await page.locator('.msg').count(), 0, 'nothing was sent');
    await page.getByRole('button', { name: 'Top up' }).click();
    await page.locator('#balance', { hasText: '4,092' }).waitFor();
    assert.equal(await shownBalance(page), await assertLedgerConsistent(state.base, token));
  });
});
