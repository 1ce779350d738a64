// The chat page: logging in or signing up, then the views (chat, ledger, keys, password),
// chosen by the URL's hash.
import * as session from './api.js';
import { $, notify } from './ui.js';
import { loadAccount, loadModels, state } from './state.js';
import { resetChat, showChat } from './thread.js';
import { showLedger } from './ledger.js';
import { showKeys } from './keys.js';
import { showPassword } from './password.js';

const views = { chat: showChat, ledger: showLedger, keys: showKeys, password: showPassword };
let registering = false;

function showOnly(id) {
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== id;
}

function setAuthMode(register) {
  registering = register;
  $('#auth-title').textContent = register ? 'Create an account' : 'Log in';
  $('#auth-submit').textContent = register ? 'Create account' : 'Log in';
  $('#auth-switch').textContent = register ? 'I have an account: log in' : 'Create an account instead';
  $('#auth-password').autocomplete = register ? 'new-password' : 'current-password';
}

function showAuth(message = '', kind = 'error') {
  // Nothing of the last person stays in the page.
  resetChat();
  for (const name of Object.keys(views)) $(`#view-${name}`).replaceChildren();
  $('#nav').hidden = true;
  $('#docs-link').hidden = false;
  $('#balance').textContent = '';
  state.account = null;
  showOnly('view-auth');
  notify($('#auth-notice'), message, kind);
  $('#auth-username').focus();
}

async function submitAuth(event) {
  event.preventDefault();
  const username = $('#auth-username').value;
  const password = $('#auth-password').value;
  const button = $('#auth-submit');
  button.disabled = true;
  try {
    if (registering) await session.register(username, password);
    await session.login(username, password);
    $('#auth-password').value = '';
    setAuthMode(false);
    await enter();
  } catch (err) {
    notify($('#auth-notice'), err.message);
  } finally {
    button.disabled = false;
  }
}

async function enter() {
  await Promise.all([loadAccount(), loadModels()]);
  $('#nav').hidden = false;
  $('#docs-link').hidden = true;
  $('#console-link').hidden = !state.account.is_staff;
  await route();
}

async function route() {
  if (!state.account) return;
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const view = views[name] ? name : 'chat';
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  showOnly(`view-${view}`);
  try {
    await views[view]($(`#view-${view}`));
  } catch (err) {
    if (!(err instanceof session.SessionEnded)) throw err;
  }
}

async function start() {
  $('#auth-form').addEventListener('submit', submitAuth);
  $('#auth-switch').addEventListener('click', () => setAuthMode(!registering));
  $('#logout').addEventListener('click', async () => {
    await session.logout();
    showAuth('You are logged out.', 'ok');
  });
  session.whenSessionEnds((ended) => showAuth(ended.message));
  window.addEventListener('hashchange', () => route());
  setAuthMode(false);
  if (!session.hasSession()) {
    showAuth();
    return;
  }
  try {
    await enter();
  } catch (err) {
    if (!(err instanceof session.SessionEnded)) showAuth(err.message);
  }
}

start();
