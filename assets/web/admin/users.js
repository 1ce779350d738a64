// Users: the table, searched by username, filtered, ordered and paged.
import { api } from '../api.js';
import { $, el, formatTime, formatTokens } from '../ui.js';

const PAGE_SIZE = 25;
const list = { page: 1, search: '', active: '', staff: '', ordering: 'id' };

function choice(id, label, options, value, onchange) {
  return el('div', {}, el('label', { for: id }, label),
    el('select', { id, onchange: (e) => onchange(e.target.value) },
      options.map(([v, text]) => el('option', { value: v, selected: v === value }, text))));
}

export async function showUsers(section) {
  const search = el('input', { id: 'user-search', type: 'search', value: list.search, maxlength: 150 });
  section.replaceChildren(
    el('h1', {}, 'Users'),
    el('form', { class: 'inline', role: 'search', onsubmit: (e) => { e.preventDefault(); list.search = search.value; loadUsers(1); } },
      el('div', {}, el('label', { for: 'user-search' }, 'Search by username'), search),
      choice('user-active', 'Active', [['', 'Any'], ['true', 'Active'], ['false', 'Deactivated']], list.active, (v) => { list.active = v; loadUsers(1); }),
      choice('user-staff', 'Staff', [['', 'Any'], ['true', 'Staff'], ['false', 'Not staff']], list.staff, (v) => { list.staff = v; loadUsers(1); }),
      choice('user-order', 'Order', [['id', 'Oldest first'], ['-id', 'Newest first'], ['username', 'Username'], ['-tokens', 'Largest balance']], list.ordering, (v) => { list.ordering = v; loadUsers(1); }),
      el('button', { type: 'submit' }, 'Search')),
    el('div', { class: 'table-wrap' }, el('table', { id: 'users-table' })),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary', id: 'users-prev', onclick: () => loadUsers(list.page - 1) }, 'Previous'),
      el('span', { class: 'muted', id: 'users-page' }),
      el('button', { type: 'button', class: 'secondary', id: 'users-next', onclick: () => loadUsers(list.page + 1) }, 'Next')));
  await loadUsers(list.page);
}

async function loadUsers(page) {
  const query = new URLSearchParams({ page, page_size: PAGE_SIZE, ordering: list.ordering });
  if (list.search) query.set('search', list.search);
  if (list.active) query.set('is_active', list.active);
  if (list.staff) query.set('is_staff', list.staff);
  const found = await api('GET', `/api/admin/users/?${query}`);
  list.page = page;
  $('#users-prev').disabled = !found.previous;
  $('#users-next').disabled = !found.next;
  $('#users-page').textContent = `Page ${page} of ${Math.max(1, Math.ceil(found.count / PAGE_SIZE))} (${found.count} user${found.count === 1 ? '' : 's'})`;
  $('#users-table').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'Username'), el('th', { class: 'num' }, 'Balance'), el('th', {}, 'State'),
      el('th', { class: 'optional' }, 'Joined'))),
    el('tbody', {}, found.results.map((u) => el('tr', {},
      el('td', {}, el('a', { href: `#/user/${u.id}` }, u.username)),
      el('td', { class: 'num' }, formatTokens(u.tokens)),
      el('td', {}, [u.is_active ? 'active' : 'deactivated', u.is_superuser ? 'superuser' : u.is_staff ? 'staff' : ''].filter(Boolean).join(', ')),
      el('td', { class: 'optional' }, formatTime(u.date_joined))))));
}
