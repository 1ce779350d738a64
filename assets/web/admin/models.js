// The models as configured, with their prices in tokens.
import { api } from '../api.js';
import { el, formatTokens } from '../ui.js';

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
