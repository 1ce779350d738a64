// The ways to add tokens the server offers: redeeming a code (always), buying tokens (when
// payments are configured: GET /api/account/'s payments) and the free top-up (when enabled).
import { ApiError, api } from './api.js';
import { el, formatTokens, newIdempotencyKey, notify } from './ui.js';
import { showBalance, state } from './state.js';
import { topUpForm } from './topup.js';

let formCount = 0;
const uniqueId = (name) => `${name}-${(formCount += 1)}`;

/// The words for a refused redemption: every reason is the same 400, so the page says so once.
function redeemRefusal(err) {
  if (err instanceof ApiError && err.status === 400) return 'That code cannot be redeemed.';
  return err.message;
}

/// A form that redeems a code with POST /api/redeem/; `onDone(message)` after a redemption.
export function redeemForm(onDone = () => {}) {
  const id = uniqueId('redeem-code');
  const notice = el('div', { class: 'notice', hidden: true });
  const code = el('input', {
    id, name: 'code', required: true, maxlength: 100, autocomplete: 'off', autocapitalize: 'characters',
    spellcheck: 'false', placeholder: 'CG-XXXX-XXXX-…',
  });
  const button = el('button', { type: 'submit' }, 'Redeem');
  const form = el('form', { class: 'card redeem', 'aria-label': 'Redeem a code' },
    el('label', { for: id }, 'Code'),
    el('div', { class: 'inline' }, code, button),
    notice);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const done = await api('POST', '/api/redeem/', { body: { code: code.value.trim() } });
      showBalance(done.tokens);
      const message = `Code redeemed: your balance is now ${formatTokens(done.tokens)} tokens.`;
      code.value = '';
      notify(notice, message, 'ok');
      onDone(message);
    } catch (err) {
      notify(notice, redeemRefusal(err));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// Back from the checkout through the browser's history, the page may be restored as it was
// left: with the price's button still disabled.
window.addEventListener('pageshow', (event) => {
  if (!event.persisted) return;
  for (const button of document.querySelectorAll('button[data-price]')) button.disabled = false;
});

/// The price table as buttons; a choice starts a checkout and sends the person to its URL.
export function buyList() {
  const notice = el('div', { class: 'notice', hidden: true });
  // One key per price while a failed request is retried, so a retry gets the same checkout.
  const keys = new Map();
  async function buy(price, button) {
    if (!keys.has(price.price)) keys.set(price.price, newIdempotencyKey());
    button.disabled = true;
    notify(notice, 'Opening the checkout…', 'ok');
    try {
      const session = await api('POST', '/api/payments/checkout/',
        { body: { price: price.price }, headers: { 'Idempotency-Key': keys.get(price.price) } });
      window.location.assign(session.url);
    } catch (err) {
      if (err instanceof ApiError) keys.delete(price.price);
      notify(notice, err.message);
      button.disabled = false;
    }
  }
  const items = state.account.payments.prices.map((price) => {
    const button = el('button', { type: 'button', 'data-price': price.price }, `Buy ${formatTokens(price.tokens)} tokens`);
    button.addEventListener('click', () => buy(price, button));
    return el('li', {}, button);
  });
  return el('div', { class: 'card buy', role: 'group', 'aria-label': 'Buy tokens' },
    el('p', { class: 'muted' }, 'Pay at Stripe: the tokens are added once the payment is confirmed.'),
    el('ul', { class: 'prices' }, items),
    notice);
}

export const paymentsEnabled = () => Boolean(state.account.payments?.enabled && state.account.payments.prices.length);

/// Every way to add tokens the server offers, each under its heading (`level`: h2 or h3).
export function addTokens({ level = 'h2', suggested = 1000, onDone = () => {} } = {}) {
  const way = (title, body) => el('div', { class: 'way' }, el(level, {}, title), body);
  const ways = [way('Redeem a code', redeemForm(onDone))];
  if (paymentsEnabled()) ways.push(way('Buy tokens', buyList()));
  if (state.account.top_up.enabled) ways.push(way('Top up', topUpForm(suggested, () => onDone(''))));
  return ways;
}
