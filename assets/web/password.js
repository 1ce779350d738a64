// The password view: a new password ends every session; the page logs in again with it.
import { api, login } from './api.js';
import { $, el, notify } from './ui.js';
import { state } from './state.js';

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
