// The top-up form, offered when a message would cost more than the balance.
import { ApiError, api } from './api.js';
import { el, newIdempotencyKey, notify } from './ui.js';
import { showBalance } from './state.js';

/// A form that adds tokens with POST /api/top-up/ (retried safely: an Idempotency-Key).
export function topUpForm(suggested, onDone = () => {}) {
  const notice = el('div', { class: 'notice', hidden: true });
  const amount = el('input', { id: 'top-up-amount', type: 'number', min: 1, step: 1, value: suggested, required: true });
  const form = el('form', { class: 'card', 'aria-label': 'Top up' },
    el('label', { for: 'top-up-amount' }, 'Add tokens'),
    el('div', { class: 'inline' }, amount, el('button', { type: 'submit' }, 'Top up')),
    notice);
  // One key per top-up, kept while it is retried after a network failure (so it is never
  // applied twice), replaced once the server has answered.
  const newKey = newIdempotencyKey;
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
