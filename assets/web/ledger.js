// The ledger view: the ways to add tokens, then the person's balance changes, newest first,
// filtered by kind; CSV download.
import { ApiError, api, call } from './api.js';
import { $, download, el, formatTime, formatTokens, notify } from './ui.js';
import { refreshBalance } from './state.js';
import { addTokens } from './funds.js';

const LEDGER_PAGE = 25;
const KINDS = ['signup_grant', 'top_up', 'chat_charge', 'chat_refund', 'admin_grant', 'admin_deduct', 'code_redeem',
  'payment_credit', 'payment_refund', 'debt_repayment'];
const ledger = { page: 1, kind: '' };

export async function showLedger(section) {
  section.replaceChildren(
    el('h1', {}, 'Ledger'),
    el('section', { class: 'add-tokens', 'aria-labelledby': 'add-tokens-title' },
      el('h2', { id: 'add-tokens-title' }, 'Add tokens'),
      el('div', { class: 'ways' }, addTokens({ level: 'h3', onDone: () => loadLedger(1) }))),
    el('h2', {}, 'Changes to your balance'),
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
  $('#ledger-page').textContent = `Page ${page} of ${Math.max(1, Math.ceil(list.count / LEDGER_PAGE))} (${list.count} row${list.count === 1 ? '' : 's'})`;
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
