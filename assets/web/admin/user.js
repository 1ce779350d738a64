// One user's page: balance, ledger, sessions, keys and conversations, with every action the
// admin API offers. Money moves and lockouts ask for confirmation first.
import { ApiError, api, call } from '../api.js';
import { $, confirmAction, download, el, formatTime, formatTokens, notify } from '../ui.js';

function table(id, headers, rows) {
  return el('div', { class: 'table-wrap' }, el('table', { id },
    el('thead', {}, el('tr', {}, headers.map(([text, cls]) => el('th', { class: cls }, text)))),
    el('tbody', {}, rows)));
}

export async function showUser(section, id) {
  const user = await api('GET', `/api/admin/users/${id}/`);
  const notice = el('div', { id: 'user-notice', class: 'notice', hidden: true });
  const amount = el('input', { id: 'adjust-amount', type: 'number', min: 1, step: 1, required: true });
  const reason = el('input', { id: 'adjust-reason', required: true, maxlength: 500 });
  const act = (label, cls, run) => el('button', { type: 'button', class: cls, onclick: () => run().catch((err) => notify(notice, err.message)) }, label);
  section.replaceChildren(
    el('p', {}, el('a', { href: '#/users' }, '← All users')),
    el('h1', {}, `${user.username} `, el('span', { class: 'muted' }, `#${user.id}`)),
    el('p', {}, el('strong', { id: 'user-balance' }, `Balance: ${formatTokens(user.tokens)} tokens`), ' · ',
      user.is_active ? 'active' : 'deactivated', user.is_staff ? ' · staff' : '', ` · joined ${formatTime(user.date_joined)}`),
    user.debt > 0 ? el('p', { class: 'notice error', id: 'user-debt' },
      `Debt: ${formatTokens(user.debt)} tokens, spent before a payment of theirs was refunded. Their next redeemed codes and payments pay it first.`) : '',
    notice,
    el('h2', {}, 'Grant or deduct tokens'),
    el('form', { class: 'inline', id: 'adjust-form', onsubmit: (e) => e.preventDefault() },
      el('div', {}, el('label', { for: 'adjust-amount' }, 'Tokens'), amount),
      el('div', {}, el('label', { for: 'adjust-reason' }, 'Reason (kept in the ledger and the audit log)'), reason),
      act('Grant', '', () => adjust(user, 'grant', amount, reason, notice)),
      act('Deduct', 'danger', () => adjust(user, 'deduct', amount, reason, notice))),
    el('h2', {}, 'Account'),
    el('div', { class: 'row' },
      user.is_active
        ? act('Deactivate', 'danger', () => lockAction(user, 'deactivate', 'Deactivate this user?', `${user.username} will be logged out everywhere and refused until reactivated; their keys stop working.`))
        : act('Reactivate', '', () => lockAction(user, 'activate', 'Reactivate this user?', `${user.username} will be able to log in again.`)),
      act('Revoke sessions and keys', 'danger', () => lockAction(user, 'revoke', 'Revoke every session and key?', `${user.username} is logged out everywhere and every API key of theirs stops working.`)),
      act('Reset password', 'danger', () => resetPassword(user)),
      act(user.is_staff ? 'Remove from staff' : 'Make staff', 'secondary', () => setStaff(user, !user.is_staff))),
    el('h2', {}, 'Recent ledger'),
    table('user-ledger', [['When'], ['Kind'], ['Change', 'num'], ['Balance after', 'num'], ['Reference', 'optional']],
      user.recent_ledger.map((r) => el('tr', {}, el('td', {}, formatTime(r.created_at)), el('td', {}, r.kind.replace(/_/g, ' ')),
        el('td', { class: 'num' }, (r.delta > 0 ? '+' : '') + formatTokens(r.delta)), el('td', { class: 'num' }, formatTokens(r.balance_after)),
        el('td', { class: 'optional' }, r.reference ?? '')))),
    el('div', { class: 'row' }, act('Download the whole ledger (CSV)', 'secondary', () => downloadLedger(user))),
    el('h2', {}, 'Spend per model'),
    table('user-spend', [['Model'], ['Requests', 'num'], ['Tokens charged', 'num']],
      user.spend_per_model.map((s) => el('tr', {}, el('td', {}, s.model), el('td', { class: 'num' }, formatTokens(s.requests)),
        el('td', { class: 'num' }, formatTokens(s.tokens_charged))))),
    el('h2', {}, 'Sessions'),
    table('user-sessions', [['Started'], ['Last used'], ['State']],
      user.sessions.map((s) => el('tr', {}, el('td', {}, formatTime(s.created_at)), el('td', {}, formatTime(s.last_used_at)),
        el('td', {}, s.revoked_at ? `revoked (${s.revoke_reason ?? ''})` : 'active')))),
    el('h2', {}, 'API keys'),
    table('user-keys', [['Name'], ['Key'], ['Spent', 'num'], ['State'], ['']],
      user.keys.map((k) => el('tr', {}, el('td', {}, k.name), el('td', {}, el('code', {}, `${k.prefix}…`)),
        el('td', { class: 'num' }, formatTokens(k.spent)), el('td', {}, k.revoked_at ? 'revoked' : 'active'),
        el('td', {}, k.revoked_at ? '' : act('Revoke', 'danger', () => revokeKey(user, k)))))),
    el('h2', {}, `Conversations (${user.conversations_count})`),
    el('div', { id: 'user-conversations' }));
  await loadConversations(user, 1);
}

const reload = (user) => showUser($('#view-user'), user.id);

async function adjust(user, direction, amount, reason, notice) {
  const tokens = Number(amount.value);
  if (!Number.isInteger(tokens) || tokens < 1 || !reason.value.trim()) {
    return notify(notice, 'Give a whole number of tokens (at least 1) and a reason.');
  }
  const verb = direction === 'grant' ? 'Grant' : 'Deduct';
  const ok = await confirmAction(`${verb} ${formatTokens(tokens)} tokens?`,
    `${verb} ${formatTokens(tokens)} tokens ${direction === 'grant' ? 'to' : 'from'} ${user.username}, because: ${reason.value}`, verb, direction !== 'grant');
  if (!ok) return;
  const done = await api('POST', `/api/admin/users/${user.id}/${direction}/`, { body: { tokens, reason: reason.value } });
  await reload(user);
  notify($('#user-notice'), `${verb}ed ${formatTokens(tokens)} tokens: the balance is now ${formatTokens(done.tokens)}.`, 'ok');
}

async function lockAction(user, action, title, text) {
  if (!(await confirmAction(title, text, title.replace(/\?$/, '').split(' ')[0]))) return;
  await api('POST', `/api/admin/users/${user.id}/${action}/`);
  await reload(user);
  notify($('#user-notice'), 'Done.', 'ok');
}

async function resetPassword(user) {
  if (!(await confirmAction('Reset the password?', `A new password is generated for ${user.username} and shown once; every session of theirs ends.`, 'Reset'))) return;
  const done = await api('POST', `/api/admin/users/${user.id}/password/`, { body: {} });
  await reload(user);
  const shown = $('#user-notice');
  notify(shown, 'New password (shown once, hand it over safely): ', 'ok');
  shown.append(el('code', { class: 'secret', id: 'new-password' }, done.password));
}

/// Superusers only: the API refuses anyone else, and the page shows its words.
async function setStaff(user, staff) {
  const text = staff
    ? `${user.username} will be able to use this console and the admin API.`
    : `${user.username} will lose the console and the admin API at their next request.`;
  if (!(await confirmAction(staff ? 'Make this user staff?' : 'Remove this user from staff?', text, staff ? 'Make staff' : 'Remove'))) return;
  await api('POST', `/api/admin/users/${user.id}/staff/`, { body: { is_staff: staff } });
  await reload(user);
  notify($('#user-notice'), staff ? `${user.username} is staff now.` : `${user.username} is no longer staff.`, 'ok');
}

async function revokeKey(user, key) {
  if (!(await confirmAction('Revoke this key?', `"${key.name}" of ${user.username} stops working at once.`, 'Revoke'))) return;
  await api('DELETE', `/api/admin/users/${user.id}/keys/${key.id}/`);
  await reload(user);
}

async function downloadLedger(user) {
  const res = await call('GET', `/api/admin/transactions/?user=${user.id}`);
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null), res.headers.get('retry-after'));
  download(`ledger-${user.username}.csv`, await res.text(), 'text/csv');
}

async function loadConversations(user, page) {
  const found = await api('GET', `/api/admin/users/${user.id}/conversations/?page=${page}&page_size=10`);
  const box = $('#user-conversations');
  const detail = el('div', { id: 'conversation-detail' });
  box.replaceChildren(
    el('ul', {}, found.results.map((c) => el('li', {},
      el('button', { type: 'button', class: 'secondary', onclick: () => showConversation(user, c.id, detail) }, c.title || `Conversation ${c.id}`),
      ` ${c.message_count} messages, ${c.model}, ${formatTime(c.updated_at)}`))),
    el('div', { class: 'row' },
      found.previous ? el('button', { type: 'button', class: 'secondary', onclick: () => loadConversations(user, page - 1) }, 'Newer') : '',
      found.next ? el('button', { type: 'button', class: 'secondary', onclick: () => loadConversations(user, page + 1) }, 'Older') : ''),
    detail);
}

async function showConversation(user, id, target) {
  const c = await api('GET', `/api/admin/users/${user.id}/conversations/${id}/`);
  target.replaceChildren(el('h3', {}, c.title || `Conversation ${c.id}`),
    ...c.messages.map((m) => el('div', { class: 'card' },
      el('p', {}, el('strong', {}, 'User: '), m.message),
      el('p', {}, el('strong', {}, 'Answer: '), m.response),
      el('p', { class: 'muted' }, `${m.model} · ${formatTokens(m.cost)} tokens · ${m.finish_reason}`))));
}
