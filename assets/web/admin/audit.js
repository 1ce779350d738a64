// The audit log: every operator action, newest first, filtered by action and target.
import { api } from '../api.js';
import { $, el, formatTime } from '../ui.js';

const AUDIT_PAGE = 25;
const audit = { page: 1, action: '', target: '' };

function facts(value) {
  if (!value || typeof value !== 'object') return '';
  return Object.entries(value).map(([k, v]) => `${k}: ${v}`).join(', ');
}

export async function showAudit(section) {
  const action = el('input', { id: 'audit-action', value: audit.action, placeholder: 'tokens.grant', maxlength: 64 });
  const target = el('input', { id: 'audit-target', type: 'number', min: 1, value: audit.target });
  section.replaceChildren(
    el('h1', {}, 'Audit log'),
    el('p', { class: 'muted' }, 'Every operator action, newest first, with who did it and why.'),
    el('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); audit.action = action.value.trim(); audit.target = target.value; loadAudit(1); } },
      el('div', {}, el('label', { for: 'audit-action' }, 'Action'), action),
      el('div', {}, el('label', { for: 'audit-target' }, 'Target user id'), target),
      el('button', { type: 'submit' }, 'Filter')),
    el('div', { class: 'table-wrap' }, el('table', { id: 'audit-table' })),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary', id: 'audit-prev', onclick: () => loadAudit(audit.page - 1) }, 'Newer'),
      el('span', { class: 'muted', id: 'audit-page' }),
      el('button', { type: 'button', class: 'secondary', id: 'audit-next', onclick: () => loadAudit(audit.page + 1) }, 'Older')));
  await loadAudit(audit.page);
}

async function loadAudit(page) {
  const query = new URLSearchParams({ page, page_size: AUDIT_PAGE });
  if (audit.action) query.set('action', audit.action);
  if (audit.target) query.set('target', audit.target);
  const found = await api('GET', `/api/admin/audit/?${query}`);
  audit.page = page;
  $('#audit-prev').disabled = !found.previous;
  $('#audit-next').disabled = !found.next;
  $('#audit-page').textContent = `Page ${page} of ${Math.max(1, Math.ceil(found.count / AUDIT_PAGE))} (${found.count} ${found.count === 1 ? 'entry' : 'entries'})`;
  $('#audit-table').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'When'), el('th', {}, 'Actor'), el('th', {}, 'Action'), el('th', {}, 'Target'),
      el('th', {}, 'Reason'), el('th', { class: 'optional' }, 'Before → after'))),
    el('tbody', {}, found.results.map((a) => el('tr', {},
      el('td', {}, formatTime(a.created_at)), el('td', {}, a.actor), el('td', {}, a.action),
      el('td', {}, a.target_user_id ? el('a', { href: `#/user/${a.target_user_id}` }, `#${a.target_user_id}`) : ''),
      el('td', {}, a.reason ?? ''), el('td', { class: 'optional' }, `${facts(a.before)} → ${facts(a.after)}`)))));
}
