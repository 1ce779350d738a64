// Redemption codes: create a batch (its codes shown once, to copy or download), the batches
// with their uses, and revoking a batch or one code of it. Each action asks first.
import { api } from '../api.js';
import { $, confirmAction, copyText, download, el, formatTime, formatTokens, notify } from '../ui.js';

const PAGE_SIZE = 25;
const list = { page: 1 };

const field = (id, label, input) => el('div', {}, el('label', { for: id }, label), input);
const plural = (n, one, many = `${one}s`) => `${formatTokens(n)} ${n === 1 ? one : many}`;

export async function showCodes(section) {
  section.replaceChildren(
    el('h1', {}, 'Redemption codes'),
    el('p', { class: 'muted' }, 'Each code credits its tokens once per person who redeems it, up to its uses. Only a hash of a code is kept: the codes are shown once, when the batch is made.'),
    el('div', { id: 'codes-notice', class: 'notice', hidden: true }),
    el('h2', {}, 'Create a batch'),
    el('form', { id: 'codes-form', class: 'inline', onsubmit: createBatch },
      field('codes-tokens', 'Tokens per redemption', el('input', { id: 'codes-tokens', type: 'number', min: 1, step: 1, required: true })),
      field('codes-count', 'Number of codes', el('input', { id: 'codes-count', type: 'number', min: 1, max: 1000, step: 1, value: 1, required: true })),
      field('codes-uses', 'Uses per code', el('input', { id: 'codes-uses', type: 'number', min: 1, max: 1000000, step: 1, value: 1, required: true })),
      field('codes-expiry', 'Expires (optional, your local time)', el('input', { id: 'codes-expiry', type: 'datetime-local' })),
      el('button', { type: 'submit' }, 'Create codes')),
    el('div', { id: 'new-codes' }),
    el('h2', {}, 'Batches'),
    el('div', { class: 'table-wrap' }, el('table', { id: 'batches-table' })),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary', id: 'batches-prev', onclick: () => loadBatches(list.page - 1) }, 'Newer'),
      el('span', { class: 'muted', id: 'batches-page' }),
      el('button', { type: 'button', class: 'secondary', id: 'batches-next', onclick: () => loadBatches(list.page + 1) }, 'Older')),
    el('h2', {}, 'Revoke one code'),
    el('form', { id: 'revoke-code-form', class: 'inline', onsubmit: revokeOne },
      field('revoke-batch', 'Batch number', el('input', { id: 'revoke-batch', type: 'number', min: 1, step: 1, required: true })),
      field('revoke-code', 'Code', el('input', { id: 'revoke-code', required: true, maxlength: 100, autocomplete: 'off', spellcheck: 'false' })),
      el('button', { type: 'submit', class: 'danger' }, 'Revoke code')));
  await loadBatches(1);
}

async function loadBatches(page) {
  const found = await api('GET', `/api/admin/codes/?page=${page}&page_size=${PAGE_SIZE}`);
  list.page = page;
  $('#batches-prev').disabled = !found.previous;
  $('#batches-next').disabled = !found.next;
  $('#batches-page').textContent = `Page ${page} of ${Math.max(1, Math.ceil(found.count / PAGE_SIZE))} (${plural(found.count, 'batch', 'batches')})`;
  $('#batches-table').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'Batch'), el('th', { class: 'num' }, 'Tokens'), el('th', { class: 'num' }, 'Codes'),
      el('th', { class: 'num' }, 'Uses'), el('th', { class: 'num' }, 'Revoked'), el('th', {}, 'Expires'),
      el('th', { class: 'optional' }, 'Created'), el('th', {}, ''))),
    el('tbody', {}, found.results.map((b) => el('tr', { 'data-batch-id': b.id },
      el('td', {}, `#${b.id}`), el('td', { class: 'num' }, formatTokens(b.tokens)), el('td', { class: 'num' }, formatTokens(b.codes)),
      el('td', { class: 'num' }, `${formatTokens(b.uses)} of ${formatTokens(b.codes * b.max_uses)}`),
      el('td', { class: 'num' }, formatTokens(b.revoked)),
      el('td', {}, b.expires_at ? formatTime(b.expires_at) : 'never'),
      el('td', { class: 'optional' }, `${formatTime(b.created_at)} by ${b.created_by}`),
      el('td', {}, b.revoked < b.codes
        ? el('button', { type: 'button', class: 'danger', 'aria-label': `Revoke batch #${b.id}`, onclick: () => revokeBatch(b) }, 'Revoke')
        : 'revoked')))));
}

/// The expiry as the API takes it (UTC, whole seconds), from the local time picked.
function expiryOf(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function createBatch(event) {
  event.preventDefault();
  const notice = $('#codes-notice');
  const body = { tokens: Number($('#codes-tokens').value), count: Number($('#codes-count').value), max_uses: Number($('#codes-uses').value) };
  const expires = expiryOf($('#codes-expiry').value);
  if (expires === undefined) return notify(notice, 'The expiry is not a date and time.');
  if (expires) body.expires_at = expires;
  const text = `${plural(body.count, 'code')} crediting ${plural(body.tokens, 'token')} each, usable ${body.max_uses === 1 ? 'once' : `${formatTokens(body.max_uses)} times (each by a different person)`}, `
    + `${expires ? `until ${formatTime(expires)}` : 'with no expiry'}. Anyone holding a code can redeem it.`;
  if (!(await confirmAction(`Create ${plural(body.count, 'code')}?`, text, 'Create', false))) return;
  try {
    const made = await api('POST', '/api/admin/codes/', { body });
    notify(notice, '');
    showNewCodes(made);
    $('#codes-form').reset();
    await loadBatches(1);
  } catch (err) {
    notify(notice, err.message);
  }
}

function showNewCodes(made) {
  const all = made.codes.join('\n');
  const copied = el('span', { role: 'status', class: 'muted' });
  $('#new-codes').replaceChildren(el('div', { class: 'notice ok' },
    el('p', { role: 'alert' }, el('strong', {}, 'Copy these codes now: they will not be shown again. '),
      `Batch #${made.batch_id}: ${plural(made.codes.length, 'code')} of ${plural(made.tokens, 'token')}.`),
    el('pre', { class: 'secret', id: 'new-codes-value' }, all),
    el('div', { class: 'row' },
      el('button', { type: 'button', onclick: async () => { copied.textContent = (await copyText(all)) ? 'Copied.' : 'Copying was refused: select the codes and copy them.'; } },
        made.codes.length === 1 ? 'Copy the code' : 'Copy the codes'),
      el('button', { type: 'button', class: 'secondary', onclick: () => download(`codes-batch-${made.batch_id}.txt`, `${all}\n`, 'text/plain') }, 'Download as text'),
      copied)));
}

async function revokeBatch(batch) {
  const text = `Every code of batch #${batch.id} with uses left stops working. The ${plural(batch.uses, 'redemption')} already made stay.`;
  if (!(await confirmAction(`Revoke batch #${batch.id}?`, text, 'Revoke'))) return;
  try {
    const done = await api('POST', `/api/admin/codes/${batch.id}/revoke/`, { body: {} });
    await loadBatches(list.page);
    notify($('#codes-notice'), `Revoked ${plural(done.revoked, 'code')} of batch #${batch.id}.`, 'ok');
  } catch (err) {
    notify($('#codes-notice'), err.message);
  }
}

async function revokeOne(event) {
  event.preventDefault();
  const batch = Number($('#revoke-batch').value);
  const code = $('#revoke-code').value.trim();
  if (!(await confirmAction('Revoke this code?', `${code} of batch #${batch} stops working. Redemptions already made stay.`, 'Revoke'))) return;
  try {
    const done = await api('POST', `/api/admin/codes/${batch}/revoke/`, { body: { code } });
    await loadBatches(list.page);
    $('#revoke-code-form').reset();
    notify($('#codes-notice'), done.revoked
      ? `Revoked the code of batch #${batch}.`
      : `No code was revoked: batch #${batch} has no such code with uses left.`, done.revoked ? 'ok' : 'error');
  } catch (err) {
    notify($('#codes-notice'), err.status === 404 ? `There is no batch #${batch}.` : err.message);
  }
}
