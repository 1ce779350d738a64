// The operators' console at /admin/ in Chromium: an operator (made with createsuperuser) logs
// in, finds a person, grants 500 tokens with a reason, sees the new balance after a reload and
// the grant in the audit log, and reads usage (the uPlot chart), top spenders and the models;
// a person who is not staff is refused. The balance is checked against the ledger.
//
//   node --test tests/browser/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DESKTOP, PHONE, assertLedgerConsistent, createSuperuser, deployment, haveBrowser, ledgerOf, loginApi, newName,
  newPassword, request, screenshot, withPage,
} from './support.mjs';

const state = deployment();
const skip = !haveBrowser && 'no browser';

async function logIn(page, username, password) {
  await page.goto(`${state.base}/admin/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/// A person with one chat behind them (so usage has a row), and their access token.
async function person() {
  const username = newName('customer');
  const password = newPassword();
  const reg = await request(state.base, 'POST', '/api/register/', { body: { username, password } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const token = await loginApi(state.base, username, password);
  const chat = await request(state.base, 'POST', '/api/chat/', { token, body: { message: 'hello' } });
  assert.equal(chat.status, 200, JSON.stringify(chat.body));
  return { username, password, token, balance: chat.body.remaining_tokens };
}

test('an operator finds a person, grants 500 tokens with a reason, and sees it audited', { skip, timeout: 120_000 }, async () => {
  const operator = { username: newName('operator'), password: newPassword() };
  createSuperuser(state, operator.username, operator.password);
  const customer = await person();
  const reason = 'Goodwill for the outage';

  await withPage(state, 'console', DESKTOP, async (page) => {
    await page.goto(`${state.base}/admin/`);
    await page.getByRole('heading', { name: 'Operator log in' }).waitFor();
    await screenshot(page, 'console-login-desktop');
    await logIn(page, operator.username, operator.password);
    await page.locator('#users-table tbody tr').first().waitFor();
    await page.getByLabel('Search by username').fill(customer.username);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#users-page', { hasText: '(1 user)' }).waitFor();
    const link = page.locator('#users-table').getByRole('link', { name: customer.username });
    assert.equal(await page.locator('#users-table tbody tr').count(), 1, 'the search finds exactly that person');
    await screenshot(page, 'console-users-desktop');
    await link.click();

    await page.locator('#user-balance', { hasText: (customer.balance).toLocaleString('en-US') }).waitFor();
    await page.getByLabel('Tokens', { exact: true }).fill('500');
    await page.getByLabel(/^Reason/).fill(reason);
    await page.getByRole('button', { name: 'Grant', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(reason).waitFor();
    await dialog.getByRole('button', { name: 'Grant' }).click();
    await page.locator('#user-notice', { hasText: 'Granted 500 tokens' }).waitFor();

    await page.reload();
    const granted = customer.balance + 500;
    await page.locator('#user-balance', { hasText: granted.toLocaleString('en-US') }).waitFor();
    await page.locator('#user-ledger tbody tr').first().locator('td', { hasText: 'admin grant' }).waitFor();
    await screenshot(page, 'console-user-desktop');
    const rows = await ledgerOf(state.base, customer.token);
    assert.equal(rows[0].kind, 'admin_grant');
    assert.equal(rows[0].delta, 500);
    assert.equal(await assertLedgerConsistent(state.base, customer.token), granted);

    // A lockout asks first; the person is refused while deactivated, then let back in.
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();
    const locked = await request(state.base, 'GET', '/api/tokens/', { token: customer.token });
    assert.equal(locked.status, 401, JSON.stringify(locked.body));
    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('button', { name: 'Deactivate' }).waitFor();
    customer.token = await loginApi(state.base, customer.username, customer.password);

    // Making staff (the operator is a superuser) asks first, and the admin API then lets the
    // person in; taking it back shuts them out again.
    await page.getByRole('button', { name: 'Make staff' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Make staff' }).click();
    await page.locator('#user-notice', { hasText: 'is staff now' }).waitFor();
    assert.equal((await request(state.base, 'GET', '/api/admin/users/', { token: customer.token })).status, 200);
    await page.getByRole('button', { name: 'Remove from staff' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.locator('#user-notice', { hasText: 'no longer staff' }).waitFor();
    assert.equal((await request(state.base, 'GET', '/api/admin/users/', { token: customer.token })).status, 403);

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('#audit-table tbody tr').first().locator('td', { hasText: 'user.unmake_staff' }).waitFor();
    const entry = page.locator('#audit-table tbody tr', { hasText: 'tokens.grant' });
    assert.match(await entry.innerText(), new RegExp(reason));
    assert.match(await entry.innerText(), new RegExp(operator.username));
    await screenshot(page, 'console-audit-desktop');

    await page.getByRole('link', { name: 'Usage' }).click();
    await page.locator('#usage-chart canvas').waitFor();
    await page.locator('#spenders-table').getByRole('link', { name: customer.username }).waitFor();
    await page.locator('#usage-table tbody tr', { hasText: 'chatgate-builtin' }).first().waitFor();
    await screenshot(page, 'console-usage-desktop');

    await page.getByRole('link', { name: 'Models' }).click();
    await page.locator('#models-table tbody tr', { hasText: 'fake-slow' }).waitFor();
    await screenshot(page, 'console-models-desktop');
  });

  await withPage(state, 'console-phone', PHONE, async (page) => {
    await logIn(page, operator.username, operator.password);
    await page.locator('#users-table tbody tr').first().waitFor();
    await screenshot(page, 'console-users-phone');
    await page.locator('#users-table').getByRole('link', { name: customer.username }).click();
    await page.locator('#user-balance').waitFor();
    await screenshot(page, 'console-user-phone');
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.locator('#usage-chart canvas').waitFor();
    await screenshot(page, 'console-usage-phone');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('#audit-table tbody tr').first().waitFor();
    await screenshot(page, 'console-audit-phone');
    await page.getByRole('link', { name: 'Models' }).click();
    await page.locator('#models-table tbody tr').first().waitFor();
    await screenshot(page, 'console-models-phone');
  });
  assert.equal(await assertLedgerConsistent(state.base, customer.token), customer.balance + 500);
});

test('a person who is not staff is refused by the console', { skip, timeout: 60_000 }, async () => {
  const customer = await person();
  const refused = await request(state.base, 'GET', '/api/admin/users/', { token: customer.token });
  assert.equal(refused.status, 403);
  await withPage(state, 'console-refused', DESKTOP, async (page) => {
    await logIn(page, customer.username, customer.password);
    await page.getByRole('heading', { name: 'Staff only' }).waitFor();
    assert.equal(await page.locator('#nav').isVisible(), false, 'no console navigation');
    assert.equal(await page.locator('#users-table').count(), 0, 'no user data on the page');
    await screenshot(page, 'console-refused-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'console-refused-phone');
  });
  assert.equal(await assertLedgerConsistent(state.base, customer.token), customer.balance);
});
