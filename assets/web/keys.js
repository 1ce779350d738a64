// The API keys view: create (the key shown once, with a copy button), list, revoke.
import { api } from './api.js';
import { $, confirmAction, copyText, el, formatTime, formatTokens, notify } from './ui.js';

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
