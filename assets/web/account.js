// The person's own pages: the ledger (with CSV download), API keys, the password, top-ups.
import { ApiError, api, call, login } from './api.js';
import { $, confirmAction, copyText, download, el, formatTime, formatTokens, notify } from './ui.js';
import { refreshBalance, showBalance, state } from './state.js';

const LEDGER_PAGE = 25;
const KINDS = ['signup_grant', 'top_up', 'chat_charge', 'chat_refund', 'admin_grant', 'admin_deduct'];
const ledger = { page: 1, kind: '' };

/// A form that adds tokens with POST /api/top-up/ (retried safely: an Idempotency-Key).
export function topUpForm(suggested, onDone = () => {}) {
  const notice = el('div', { class: 'notice', hidden: true });
  const amount = el('input', { id: 'top-up-amount', type: 'number', min: 1, step: 1, value: suggested, required: true });
  const form = el('form', { class: 'card', 'aria-label': 'Top up' },
    el('label', { for: 'top-up-amount' }, 'Add tokens'),
    el('div', { class: 'inline' }, amount, el('button', { type: 'submit' }, 'Top up')),
    notice);
  // One key per top-up, kept while it is retried after a network failure (so it is never
  // applied twice), replaced once the server has answered. getRandomValues, unlike
  // randomUUID, works on plain-HTTP origins too.
  const newKey = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  let key = newKey();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const done = await api('POST', '/api/top-up/', { body: { tokens: Number(amount.value) }, headers: { 'Idempotency-Key': key } });
      key = newKey();
      showBalance(done.total_tokens);
      notify(notice, done.message, 'ok');
      onDone();
    } catch (err) {
      if (err instanceof ApiError) key = newKey();
      notify(notice, err.message);
    }
  });
  return form;
}

export async function showLedger(section) {
  section.replaceChildren(
    el('h1', {}, 'Ledger'),
    el('p', { class: 'muted' }, 'Every change to your balance, newest first. The balance is always the sum of these rows.'),
    el('div', { class: 'inline' },
      el('div', {}, el('label', { for: 'ledger-kind' }, 'Kind'),
        el('select', { id: 'ledger-kind', onchange: (e) => { ledger.kind = e.target.value; renderLedger(); } },
          el('option', { value: '' }, 'All kinds'), ...KINDS.map((k) => el('option', { value: k }, k.replace(/_/g, ' ')))))),
    el('div', { class: 'table-wrap' }, el('table', { id: 'ledger-table' })),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary', id: 'ledger-prev', onclick: () => loadLedger(ledger.page - 1) }, 'Newer'),
      el('span', { id: 'ledger-page', class: 'muted' }),
      el('button', { type: 'button', class: 'secondary', id: 'ledger-next', onclick: () => loadLedger(ledger.page + 1) }, 'Older')),
    el('h2', {}, 'Download as CSV'),
    el('form', { class: 'inline', id: 'csv-form', onsubmit: downloadCsv },
      el('div', {}, el('label', { for: 'csv-from' }, 'From (optional)'), el('input', { id: 'csv-from', type: 'date' })),
      el('div', {}, el('label', { for: 'csv-to' }, 'To (optional)'), el('input', { id: 'csv-to', type: 'date' })),
      el('button', { type: 'submit' }, 'Download CSV')),
    el('div', { id: 'ledger-notice', class: 'notice', hidden: true }));
  ledger.kind = '';
  await loadLedger(1);
}

let ledgerRows = [];

async function loadLedger(page) {
  const list = await api('GET', `/api/transactions/?page=${page}&page_size=${LEDGER_PAGE}`);
  ledger.page = page;
  ledgerRows = list.results;
  $('#ledger-prev').disabled = !list.previous;
  $('#ledger-next').disabled = !list.next;
  $('#ledger-page').textContent = `Page ${page} of ${Math.max(1, Math.ceil(list.count / LEDGER_PAGE))} (${list.count} rows)`;
  renderLedger();
  await refreshBalance();
}

function renderLedger() {
  const rows = ledgerRows.filter((r) => !ledger.kind || r.kind === ledger.kind);
  $('#ledger-table').replaceChildren(
    el('caption', { class: 'muted' }, ledger.kind ? `Rows of kind ${ledger.kind} on this page` : 'Rows on this page'),
    el('thead', {}, el('tr', {}, el('th', {}, 'When'), el('th', {}, 'Kind'), el('th', { class: 'num' }, 'Change'),
      el('th', { class: 'num' }, 'Balance after'), el('th', { class: 'optional' }, 'Reference'))),
    el('tbody', {}, rows.map((r) => el('tr', {},
      el('td', {}, formatTime(r.created_at)), el('td', {}, r.kind.replace(/_/g, ' ')),
      el('td', { class: 'num' }, (r.delta > 0 ? '+' : '') + formatTokens(r.delta)),
      el('td', { class: 'num' }, formatTokens(r.balance_after)), el('td', { class: 'optional' }, r.reference ?? '')))));
}

async function downloadCsv(event) {
  event.preventDefault();
  const query = new URLSearchParams({ format: 'csv' });
  if ($('#csv-from').value) query.set('from', $('#csv-from').value);
  if ($('#csv-to').value) query.set('to', $('#csv-to').value);
  const res = await call('GET', `/api/transactions/?${query}`);
  if (!res.ok) {
    notify($('#ledger-notice'), new ApiError(res.status, await res.json().catch(() => null), res.headers.get('retry-after')).message);
    return;
  }
  download('ledger.csv', await res.text(), 'text/csv');
  notify($('#ledger-notice'), 'The ledger was downloaded as ledger.csv.', 'ok');
}

export async function showKeys(section) {
  section.replaceChildren(
    el('h1', {}, 'API keys'),
    el('p', { class: 'muted' }, 'Keys let programs use your balance through /v1 (OpenAI- and Anthropic-compatible) and /api. A key is shown once, when it is created.'),
    el('form', { id: 'key-form', onsubmit: createKey },
      el('div', { class: 'inline' },
        el('div', {}, el('label', { for: 'key-name' }, 'Name'), el('input', { id: 'key-name', required: true, maxlength: 100 })),
        el('div', {}, el('label', { for: 'key-limit' }, 'Token limit (optional)'), el('input', { id: 'key-limit', type: 'number', min: 1, step: 1 })),
        el('button', { type: 'submit' }, 'Create key'))),
    el('div', { id: 'key-notice', class: 'notice', hidden: true }),
    el('div', { id: 'new-key' }),
    el('div', { class: 'table-wrap' }, el('table', { id: 'keys-table' })));
  await loadKeys();
}

async function loadKeys() {
  const { results } = await api('GET', '/api/keys/');
  $('#keys-table').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'Key'), el('th', { class: 'optional' }, 'Created'),
      el('th', { class: 'optional' }, 'Last used'), el('th', { class: 'num' }, 'Spent'), el('th', {}, 'State'), el('th', {}, ''))),
    el('tbody', {}, results.map((k) => el('tr', { 'data-key-id': k.id },
      el('td', {}, k.name), el('td', {}, el('code', {}, `${k.prefix}…`)), el('td', { class: 'optional' }, formatTime(k.created_at)),
      el('td', { class: 'optional' }, formatTime(k.last_used_at) || 'never'),
      el('td', { class: 'num' }, formatTokens(k.spent) + (k.token_limit ? ` / ${formatTokens(k.token_limit)}` : '')),
      el('td', {}, k.revoked_at ? 'revoked' : 'active'),
      el('td', {}, k.revoked_at ? '' : el('button', { type: 'button', class: 'danger', onclick: () => revokeKey(k) }, 'Revoke'))))));
}

async function createKey(event) {
  event.preventDefault();
  const body = { name: $('#key-name').value };
  if ($('#key-limit').value) body.token_limit = Number($('#key-limit').value);
  try {
    const created = await api('POST', '/api/keys/', { body });
    const copied = el('span', { role: 'status', class: 'muted' });
    $('#new-key').replaceChildren(el('div', { class: 'notice ok' },
      el('p', {}, `Key "${created.name}" created. Copy it now: it is not shown again.`),
      el('pre', { class: 'secret', id: 'new-key-value' }, created.key),
      el('div', { class: 'row' },
        el('button', { type: 'button', onclick: async () => { copied.textContent = (await copyText(created.key)) ? 'Copied.' : 'Copying was refused: select the key and copy it.'; } }, 'Copy'),
        copied)));
    $('#key-form').reset();
    notify($('#key-notice'), '');
    await loadKeys();
  } catch (err) {
    notify($('#key-notice'), err.message);
  }
}

async function revokeKey(key) {
  if (!(await confirmAction('Revoke this key?', `Programs using "${key.name}" will be refused from now on.`, 'Revoke'))) return;
  await api('DELETE', `/api/keys/${key.id}/`);
  $('#new-key').replaceChildren();
  await loadKeys();
}

export async function showPassword(section) {
  const notice = el('div', { class: 'notice', hidden: true });
  section.replaceChildren(
    el('h1', {}, 'Change the password'),
    el('p', { class: 'muted' }, 'A new password ends every session, on every device; this page logs in again with it.'),
    el('form', { id: 'password-form' },
      el('label', { for: 'old-password' }, 'Current password'),
      el('input', { id: 'old-password', type: 'password', autocomplete: 'current-password', required: true }),
      el('label', { for: 'new-password' }, 'New password'),
      el('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 }),
      el('div', { class: 'row' }, el('button', { type: 'submit' }, 'Change password'))),
    notice);
  $('#password-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const password = $('#new-password').value;
      const done = await api('POST', '/api/password/', { body: { old_password: $('#old-password').value, new_password: password } });
      await login(state.account.username, password);
      notify(notice, `${done.detail} Every other session has been logged out.`, 'ok');
      $('#password-form').reset();
    } catch (err) {
      notify(notice, err.message);
    }
  });
}
