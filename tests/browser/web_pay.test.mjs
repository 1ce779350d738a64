// Selling tokens in the pages, on a server that sells them (no sign-up grant, no free top-ups,
// Stripe's prices at the fake Stripe of the pytest suite): an operator makes a batch of one
// code in the console and reads it from the page, a person redeems it on the chat page and sees
// the balance rise by exactly what the ledger shows, a second redemption is refused in words,
// and the batch shows its use; a message the balance cannot pay offers a code and the prices;
// guessing is answered with the wait; "Buy tokens" sends the person to the checkout's URL; a
// refund after spending shows as the debt on the user's console page, and a code pays it first.
// Every balance is checked against the ledger read through the API.
//
//   node --test tests/browser/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import Stripe from 'stripe';

import {
  DESKTOP, PHONE, assertLedgerConsistent, createSuperuser, deployment, haveBrowser, ledgerOf, loginApi, newName,
  newPassword, request, screenshot, shownBalance, withPage,
} from './support.mjs';

const PRICES = [{ price: 'price_pages_small', tokens: 1000 }, { price: 'price_pages_big', tokens: 25000 }];
const state = deployment({ stripe: PRICES, env: { CHATGATE_SIGNUP_GRANT_TOKENS: '0', CHATGATE_TOP_UP_ENABLED: 'false' } });
const skip = !haveBrowser && 'no browser';
const CODE = /^CG(-[A-Z2-7]{4}){8}$/;
const operator = { username: newName('operator'), password: newPassword() };
let operatorMade = false;

async function operatorToken() {
  if (!operatorMade) {
    createSuperuser(state, operator.username, operator.password);
    operatorMade = true;
  }
  return loginApi(state.base, operator.username, operator.password);
}

async function consoleLogIn(page) {
  await operatorToken();
  await page.goto(`${state.base}/admin/#/codes`);
  await page.getByLabel('Username').fill(operator.username);
  await page.getByLabel('Password').fill(operator.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Redemption codes' }).waitFor();
}

async function signUp(page) {
  const username = newName('buyer');
  const password = newPassword();
  await page.goto(`${state.base}/`);
  await page.getByRole('button', { name: 'Create an account instead' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#nav').waitFor({ state: 'visible' });
  return { username, password, token: await loginApi(state.base, username, password) };
}

/// A batch made through the admin API, for the tests that are not about the console.
async function codesFromApi(tokens, count) {
  const made = await request(state.base, 'POST', '/api/admin/codes/', { token: await operatorToken(), body: { tokens, count } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body.codes;
}

test('an operator makes a one-code batch; a person redeems it once on the chat page; the batch shows the use', { skip, timeout: 120_000 }, async () => {
  let code;
  await withPage(state, 'console-codes', DESKTOP, async (page) => {
    await consoleLogIn(page);
    await page.getByLabel('Tokens per redemption').fill('750');
    await page.getByLabel('Number of codes').fill('1');
    await page.getByLabel('Uses per code').fill('1');
    await page.getByRole('button', { name: 'Create codes' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('1 code crediting 750 tokens each, usable once').waitFor();
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Copy these codes now: they will not be shown again.').waitFor();
    code = (await page.locator('#new-codes-value').innerText()).trim();
    assert.match(code, CODE);
    await page.getByRole('button', { name: 'Copy the code' }).waitFor();
    await page.locator('#batches-table tbody tr').first().locator('td', { hasText: '0 of 1' }).waitFor();
    await screenshot(page, 'console-codes-desktop');
  });

  let person;
  await withPage(state, 'chat-redeem-phone', PHONE, async (page) => {
    person = await signUp(page);
    await page.getByRole('link', { name: 'Ledger' }).click();
    const form = page.getByRole('form', { name: 'Redeem a code' });
    await form.getByLabel('Code').waitFor();
    const before = await shownBalance(page);
    const rowsBefore = await ledgerOf(state.base, person.token);
    assert.equal(before, await assertLedgerConsistent(state.base, person.token));
    await screenshot(page, 'ledger-add-tokens-phone');

    await form.getByLabel('Code').fill(code);
    await form.getByRole('button', { name: 'Redeem' }).click();
    await form.getByText('Code redeemed').waitFor();
    await page.locator('#ledger-table tbody tr').first().locator('td', { hasText: 'code redeem' }).waitFor();
    const after = await shownBalance(page);
    const rows = await ledgerOf(state.base, person.token);
    const added = rows.slice(0, rows.length - rowsBefore.length);
    assert.equal(added[0].kind, 'code_redeem');
    assert.equal(added[0].delta, 750);
    assert.equal(after - before, added.reduce((sum, r) => sum + r.delta, 0), 'the balance rose by what the ledger shows');
    assert.equal(after, await assertLedgerConsistent(state.base, person.token));
    await screenshot(page, 'ledger-redeemed-phone');

    // The same code again: refused in words, nothing moves.
    await form.getByLabel('Code').fill(code);
    await form.getByRole('button', { name: 'Redeem' }).click();
    await form.getByRole('alert').filter({ hasText: 'That code cannot be redeemed.' }).waitFor();
    assert.equal(await shownBalance(page), after);
    assert.equal((await ledgerOf(state.base, person.token)).length, rows.length);
    assert.equal(await assertLedgerConsistent(state.base, person.token), after);
  });

  await withPage(state, 'console-codes-phone', PHONE, async (page) => {
    await consoleLogIn(page);
    await page.locator('#batches-table tbody tr').first().locator('td', { hasText: '1 of 1' }).waitFor();
    await screenshot(page, 'console-codes-phone');
  });
});

test('an operator revokes one code by its text, then the rest of its batch, each after confirming', { skip, timeout: 90_000 }, async () => {
  let codes;
  await withPage(state, 'console-revoke', DESKTOP, async (page) => {
    await consoleLogIn(page);
    await page.getByLabel('Tokens per redemption').fill('300');
    await page.getByLabel('Number of codes').fill('3');
    await page.getByRole('button', { name: 'Create codes' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    codes = (await page.locator('#new-codes-value').innerText()).trim().split('\n');
    assert.equal(codes.length, 3);
    codes.forEach((c) => assert.match(c, CODE));
    const row = page.locator('#batches-table tbody tr').first();
    await row.locator('td', { hasText: '0 of 3' }).waitFor();
    const batch = (await row.locator('td').first().innerText()).replace('#', '');

    await page.getByLabel('Batch number').fill(batch);
    await page.getByLabel('Code', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Revoke code' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.locator('#codes-notice', { hasText: `Revoked the code of batch #${batch}.` }).waitFor();

    await row.getByRole('button', { name: `Revoke batch #${batch}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.locator('#codes-notice', { hasText: `Revoked 2 codes of batch #${batch}.` }).waitFor();
    await page.locator('#batches-table tbody tr').first().locator('td', { hasText: 'revoked' }).waitFor();
    await screenshot(page, 'console-codes-revoked-desktop');
  });
  // Revoked codes credit nothing.
  const username = newName('late');
  const password = newPassword();
  assert.equal((await request(state.base, 'POST', '/api/register/', { body: { username, password } })).status, 201);
  const token = await loginApi(state.base, username, password);
  for (const code of [codes[0], codes[2]]) {
    assert.equal((await request(state.base, 'POST', '/api/redeem/', { token, body: { code } })).status, 400);
  }
  assert.equal(await assertLedgerConsistent(state.base, token), 0);
});

test('a message the balance cannot pay offers a code and the prices; the code redeemed there lets it go', { skip, timeout: 90_000 }, async () => {
  const [code] = await codesFromApi(2000, 1);
  await withPage(state, 'chat-short-offer', PHONE, async (page) => {
    const person = await signUp(page);
    assert.equal(await shownBalance(page), 0);
    await page.getByLabel('Model', { exact: true }).selectOption('fake-echo');
    await page.getByLabel('Message', { exact: true }).fill('hello');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#chat-notice', { hasText: 'your balance is 0' }).waitFor();
    const offer = page.locator('#top-up-offer');
    await offer.getByRole('heading', { name: 'Redeem a code' }).waitFor();
    await offer.getByRole('button', { name: 'Buy 1,000 tokens' }).waitFor();
    await offer.getByRole('button', { name: 'Buy 25,000 tokens' }).waitFor();
    await offer.getByText('Self-service top-ups are switched off here').waitFor();
    assert.equal(await offer.getByRole('button', { name: 'Top up' }).count(), 0, 'no free top-up on a shop');
    await screenshot(page, 'chat-short-offer-phone');

    await offer.getByLabel('Code', { exact: true }).fill(code);
    await offer.getByRole('button', { name: 'Redeem' }).click();
    await page.locator('#chat-notice', { hasText: 'You can send the message now.' }).waitFor();
    assert.equal(await shownBalance(page), 2000);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.msg.assistant .meta', { hasText: 'tokens' }).waitFor();
    assert.equal(await shownBalance(page), await assertLedgerConsistent(state.base, person.token));
    assert.ok(await shownBalance(page) < 2000);
  });
});

test('guessing codes on the chat page is answered with the wait, in words', { skip, timeout: 60_000 }, async () => {
  await withPage(state, 'chat-redeem-guess', DESKTOP, async (page) => {
    const person = await signUp(page);
    // The failed attempts a person may make in an hour (failed_redeem_user), through the API.
    let refused;
    for (let attempt = 0; attempt < 10; attempt += 1) {
      refused = await request(state.base, 'POST', '/api/redeem/', { token: person.token, body: { code: `CG-GUESS-${attempt}` } });
      if (refused.status === 429) break;
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
    }
    assert.equal(refused.status, 429, 'guessing is limited');
    await page.getByRole('link', { name: 'Ledger' }).click();
    const form = page.getByRole('form', { name: 'Redeem a code' });
    await form.getByLabel('Code').fill('CG-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA');
    await form.getByRole('button', { name: 'Redeem' }).click();
    await form.getByRole('alert').filter({ hasText: /Too many requests: please wait \d+ seconds? and try again\./ }).waitFor();
    await screenshot(page, 'ledger-redeem-limited-desktop');
    assert.equal(await assertLedgerConsistent(state.base, person.token), 0);
  });
});

test('"Buy tokens" lists the prices and sends the person to the checkout the API returns', { skip, timeout: 60_000 }, async () => {
  await withPage(state, 'ledger-buy', DESKTOP, async (page) => {
    const person = await signUp(page);
    const account = await request(state.base, 'GET', '/api/account/', { token: person.token });
    assert.deepEqual(account.body.payments, { enabled: true, prices: PRICES });
    await page.getByRole('link', { name: 'Ledger' }).click();
    const buy = page.getByRole('group', { name: 'Buy tokens' });
    await buy.getByRole('button', { name: 'Buy 1,000 tokens' }).waitFor();
    await screenshot(page, 'ledger-buy-desktop');
    // The checkout's page is Stripe's: here a stand-in answers the navigation.
    await page.route('https://checkout.stripe.com/**', (route) => route.fulfill({
      status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>Checkout</title><p>Checkout</p>',
    }));
    await buy.getByRole('button', { name: 'Buy 25,000 tokens' }).click();
    await page.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_\d+$/);
    // Nothing is credited before the payment is confirmed by the webhook.
    assert.equal(await assertLedgerConsistent(state.base, person.token), 0);
  });
});

/// Delivers a webhook event signed as Stripe signs it (the official library's test helper).
async function deliver(event) {
  const payload = JSON.stringify(event);
  const header = new Stripe('sk_test_signing_only').webhooks.generateTestHeaderString({ payload, secret: state.webhookSecret });
  const res = await fetch(`${state.base}/api/payments/stripe/webhook`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload,
    signal: AbortSignal.timeout(20_000),
  });
  assert.equal(res.status, 200, await res.text());
}

test('a refund after spending shows as debt on the console user page, and a redeemed code pays it first', { skip, timeout: 90_000 }, async () => {
  const username = newName('refunded');
  const password = newPassword();
  assert.equal((await request(state.base, 'POST', '/api/register/', { body: { username, password } })).status, 201);
  const token = await loginApi(state.base, username, password);
  const { id: userId } = (await request(state.base, 'GET', '/api/account/', { token })).body;
  const checkout = await request(state.base, 'POST', '/api/payments/checkout/', { token, body: { price: 'price_pages_small' } });
  assert.equal(checkout.status, 200, JSON.stringify(checkout.body));
  const intent = `pi_${checkout.body.id}`;
  await deliver({ id: `evt_paid_${checkout.body.id}`, object: 'event', type: 'checkout.session.completed', data: { object: {
    id: checkout.body.id, object: 'checkout.session', mode: 'payment', status: 'complete', payment_status: 'paid',
    client_reference_id: String(userId), metadata: { chatgate_user: String(userId) }, payment_intent: intent, amount_total: 500, currency: 'usd',
  } } });
  assert.equal(await assertLedgerConsistent(state.base, token), 1000);
  const spent = await request(state.base, 'POST', '/api/chat/', { token, body: { message: 'hello' } });
  assert.equal(spent.status, 200, JSON.stringify(spent.body));
  await deliver({ id: `evt_refund_${checkout.body.id}`, object: 'event', type: 'charge.refunded', data: { object: {
    id: `ch_${intent}`, object: 'charge', payment_intent: intent, amount: 500, amount_refunded: 500, refunded: true, currency: 'usd',
  } } });
  assert.equal(await assertLedgerConsistent(state.base, token), 0);
  const debt = 1000 - spent.body.remaining_tokens;
  assert.ok(debt > 0);

  await withPage(state, 'console-debt', DESKTOP, async (page) => {
    await consoleLogIn(page);
    await page.goto(`${state.base}/admin/#/user/${userId}`);
    await page.locator('#user-debt', { hasText: `Debt: ${debt.toLocaleString('en-US')} tokens` }).waitFor();
    await screenshot(page, 'console-user-debt-desktop');
  });

  const [code] = await codesFromApi(5000, 1);
  await withPage(state, 'chat-redeem-debt', DESKTOP, async (page) => {
    await page.goto(`${state.base}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Ledger' }).click();
    const form = page.getByRole('form', { name: 'Redeem a code' });
    const rowsBefore = await ledgerOf(state.base, token);
    await form.getByLabel('Code').fill(code);
    await form.getByRole('button', { name: 'Redeem' }).click();
    await form.getByText('Code redeemed').waitFor();
    const rows = await ledgerOf(state.base, token);
    const added = rows.slice(0, rows.length - rowsBefore.length);
    assert.deepEqual(added.map((r) => r.kind).sort(), ['code_redeem', 'debt_repayment']);
    assert.equal(await shownBalance(page), added.reduce((sum, r) => sum + r.delta, 0), 'the balance rose by what the ledger shows');
    assert.equal(await shownBalance(page), 5000 - debt);
    assert.equal(await shownBalance(page), await assertLedgerConsistent(state.base, token));
  });
});
