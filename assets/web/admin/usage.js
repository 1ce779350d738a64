// Usage over a range of UTC days: tokens charged per day and model as a uPlot chart (with its
// numbers as a table), and the top spenders.
import uPlot from '/static/vendor/uPlot.esm.js';
import { api } from '../api.js';
import { $, el, formatTokens } from '../ui.js';

const SERIES_COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#57606a'];

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
