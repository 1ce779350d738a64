// The operators' console: staff log in, then users, one user's page, redemption codes, the
// audit log, usage and the models, chosen by the URL's hash. Everything goes through the admin API, which
// refuses anyone who is not staff (shown as a refusal, not an error).
import * as session from '../api.js';
import { $, notify } from '../ui.js';
import { showUsers } from './users.js';
import { showUser } from './user.js';
import { showCodes } from './codes.js';
import { showAudit } from './audit.js';
import { showUsage } from './usage.js';
import { showModels } from './models.js';

const views = {
  users: (section) => showUsers(section),
  user: (section, id) => showUser(section, Number(id)),
  codes: (section) => showCodes(section),
  audit: (section) => showAudit(section),
  usage: (section) => showUsage(section),
  models: (section) => showModels(section),
};
let entered = false;

function showOnly(id) {
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== id;
}

function showAuth(message = '', kind = 'error') {
  entered = false;
  // Nothing of the last operator's reading stays in the page.
  for (const name of Object.keys(views)) $(`#view-${name}`).replaceChildren();
  $('#nav').hidden = true;
  showOnly('view-auth');
  notify($('#auth-notice'), message, kind);
  $('#auth-username').focus();
}

function showRefusal() {
  entered = false;
  $('#nav').hidden = true;
  showOnly('view-refused');
}

async function route() {
  if (!entered) return;
  const [, name, arg] = location.hash.match(/^#\/(\w+)(?:\/(\d+))?/) || [];
  const view = views[name] ? name : 'users';
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    const current = link.dataset.view === view || (view === 'user' && link.dataset.view === 'users');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  showOnly(`view-${view}`);
  try {
    await views[view]($(`#view-${view}`), arg);
  } catch (err) {
    if (err instanceof session.ApiError && err.status === 403) showRefusal();
    else if (!(err instanceof session.SessionEnded)) throw err;
  }
}

/// The admin API decides who is staff: its 403 is the refusal.
async function enter() {
  try {
    await session.api('GET', '/api/admin/users/?page_size=1');
  } catch (err) {
    if (err instanceof session.ApiError && err.status === 403) return showRefusal();
    throw err;
  }
  entered = true;
  $('#nav').hidden = false;
  await route();
}

async function submitAuth(event) {
  event.preventDefault();
  try {
    await session.login($('#auth-username').value, $('#auth-password').value);
    $('#auth-password').value = '';
    await enter();
  } catch (err) {
    notify($('#auth-notice'), err.message);
  }
}

async function logOut() {
  await session.logout();
  showAuth('You are logged out.', 'ok');
}

async function start() {
  $('#auth-form').addEventListener('submit', submitAuth);
  $('#logout').addEventListener('click', logOut);
  $('#refused-logout').addEventListener('click', logOut);
  session.whenSessionEnds((ended) => showAuth(ended.message));
  window.addEventListener('hashchange', () => route());
  if (!session.hasSession()) return showAuth();
  try {
    await enter();
  } catch (err) {
    if (!(err instanceof session.SessionEnded)) showAuth(err.message);
  }
}

start();
