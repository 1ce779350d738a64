// The audit log, usage over time (a uPlot chart per model) with the top spenders, and the
// models with their prices.
import uPlot from '/static/vendor/uPlot.esm.js';
import { api } from '../api.js';
import { $, el, formatTime, formatTokens } from '../ui.js';

const AUDIT_PAGE = 25;
const audit = { page: 1, action: '', target: '' };
const SERIES_COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#57606a'];

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
  $('#audit-page').textContent = `Page ${page} of ${Math.max(1, Math.ceil(found.count / AUDIT_PAGE))} (${found.count} entries)`;
  $('#audit-table').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'When'), el('th', {}, 'Actor'), el('th', {}, 'Action'), el('th', {}, 'Target'),
      el('th', {}, 'Reason'), el('th', { class: 'optional' }, 'Before → after'))),
    el('tbody', {}, found.results.map((a) => el('tr', {},
      el('td', {}, formatTime(a.created_at)), el('td', {}, a.actor), el('td', {}, a.action),
      el('td', {}, a.target_user_id ? el('a', { href: `#/user/${a.target_user_id}` }, `#${a.target_user_id}`) : ''),
      el('td', {}, a.reason ?? ''), el('td', { class: 'optional' }, `${facts(a.before)} → ${facts(a.after)}`)))));
}

const isoDay = (date) => date.toISOString().slice(0, 10);

export async function showUsage(section) {
  const today = new Date();
  const from = el('input', { id: 'usage-from', type: 'date', value: isoDay(new Date(today.getTime() - 29 * 86_400_000)) });
  const to = el('input', { id: 'usage-to', type: 'date', value: isoDay(today) });
  section.replaceChildren(
    el('h1', {}, 'Usage'),
    el('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); loadUsage(from.value, to.value); } },
      el('div', {}, el('label', { for: 'usage-from' }, 'From (UTC day)'), from),
      el('div', {}, el('label', { for: 'usage-to' }, 'To (UTC day)'), to),
      el('button', { type: 'submit' }, 'Show')),
    el('h2', { id: 'usage-chart-title' }, 'Tokens charged per day and model'),
    el('div', { class: 'chart', id: 'usage-chart', role: 'img', 'aria-labelledby': 'usage-chart-title' }),
    el('div', { class: 'table-wrap' }, el('table', { id: 'usage-table' })),
    el('h2', {}, 'Top spenders'),
    el('div', { class: 'table-wrap' }, el('table', { id: 'spenders-table' })));
  await loadUsage(from.value, to.value);
}

let chart = null;

async function loadUsage(from, to) {
  const range = new URLSearchParams({ from, to });
  const [usage, spenders] = await Promise.all([
    api('GET', `/api/admin/usage/?${range}`),
    api('GET', `/api/admin/usage/top-spenders/?${range}&limit=10`),
  ]);
  drawChart(usage);
  $('#usage-table').replaceChildren(
    el('caption', { class: 'muted' }, 'The chart\'s numbers'),
    el('thead', {}, el('tr', {}, el('th', {}, 'Day'), el('th', {}, 'Model'), el('th', { class: 'num' }, 'Requests'),
      el('th', { class: 'num optional' }, 'Prompt tokens'), el('th', { class: 'num optional' }, 'Answer tokens'), el('th', { class: 'num' }, 'Tokens charged'))),
    el('tbody', {}, usage.results.map((u) => el('tr', {}, el('td', {}, u.day), el('td', {}, u.model),
      el('td', { class: 'num' }, formatTokens(u.requests)), el('td', { class: 'num optional' }, formatTokens(u.prompt_tokens)),
      el('td', { class: 'num optional' }, formatTokens(u.completion_tokens)), el('td', { class: 'num' }, formatTokens(u.tokens_charged))))));
  $('#spenders-table').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'User'), el('th', { class: 'num' }, 'Requests'), el('th', { class: 'num' }, 'Tokens charged'))),
    el('tbody', {}, spenders.results.map((s) => el('tr', {},
      el('td', {}, el('a', { href: `#/user/${s.user_id}` }, s.username)),
      el('td', { class: 'num' }, formatTokens(s.requests)), el('td', { class: 'num' }, formatTokens(s.tokens_charged))))));
}

/// One line per model over every day of the range (0 where a model was not used).
function drawChart(usage) {
  const days = [];
  for (let t = Date.parse(`${usage.from}T00:00:00Z`); t <= Date.parse(`${usage.to}T00:00:00Z`); t += 86_400_000) days.push(t / 1000);
  const models = [...new Set(usage.results.map((u) => u.model))];
  const index = new Map(days.map((d, i) => [isoDay(new Date(d * 1000)), i]));
  const series = models.map((model) => {
    const values = days.map(() => 0);
    for (const u of usage.results) if (u.model === model && index.has(u.day)) values[index.get(u.day)] += u.tokens_charged;
    return values;
  });
  const box = $('#usage-chart');
  if (chart) chart.destroy();
  box.replaceChildren();
  chart = new uPlot({
    width: Math.max(280, box.clientWidth),
    height: 300,
    series: [{}, ...models.map((model, i) => ({ label: model, stroke: SERIES_COLOURS[i % SERIES_COLOURS.length], width: 2 }))],
    axes: [{}, { label: 'tokens', size: 70 }],
    scales: { x: { time: true } },
  }, [days, ...series], box);
}

export async function showModels(section) {
  const list = await api('GET', '/api/models/');
  section.replaceChildren(
    el('h1', {}, 'Models and prices'),
    el('p', { class: 'muted' }, 'As configured (the models setting); prices are in tokens. The first is the default.'),
    el('div', { class: 'table-wrap' }, el('table', { id: 'models-table' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Model'), el('th', {}, 'Capabilities'), el('th', { class: 'num' }, 'Per message'),
        el('th', { class: 'num' }, 'Per 1k prompt tokens'), el('th', { class: 'num' }, 'Per 1k answer tokens'), el('th', { class: 'num optional' }, 'Answer cap'))),
      el('tbody', {}, list.results.map((m) => el('tr', {},
        el('td', {}, m.id, m.id === list.default ? ' (default)' : ''), el('td', {}, m.capabilities.join(', ')),
        el('td', { class: 'num' }, formatTokens(m.price.per_message)), el('td', { class: 'num' }, formatTokens(m.price.per_1k_prompt_tokens)),
        el('td', { class: 'num' }, formatTokens(m.price.per_1k_completion_tokens)), el('td', { class: 'num optional' }, formatTokens(m.max_completion_tokens))))))));
}
