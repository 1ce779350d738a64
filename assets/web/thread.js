// The chat view: conversations in a sidebar, the thread, the model picker with prices, and a
// composer whose answer streams in and can be stopped.
import { ApiError, api, call, readEvents } from './api.js';
import { renderMarkdown } from './markdown.js';
import { $, confirmAction, el, formatTokens, notify } from './ui.js';
import { priceText, refreshBalance, reservationFloor, showBalance, state } from './state.js';
import { addTokens } from './funds.js';

const PAGE_SIZE = 20;
const chat = { built: false, current: null, messageCount: 0, page: 1, controller: null };
let root;

function build(section) {
  root = section;
  section.append(
    el('div', { class: 'chat' },
      el('aside', { class: 'sidebar card', 'aria-label': 'Conversations' },
        el('button', { type: 'button', id: 'new-chat', onclick: () => openConversation(null) }, 'New chat'),
        el('h2', { id: 'conversations-title' }, 'Conversations'),
        el('ul', { id: 'conversations', 'aria-labelledby': 'conversations-title' }),
        el('button', { type: 'button', class: 'secondary', id: 'more-conversations', hidden: true, onclick: () => loadConversations(chat.page + 1) }, 'Show older')),
      el('div', { class: 'thread card' },
        el('div', { class: 'messages', id: 'messages', role: 'log', 'aria-label': 'Messages' }),
        el('div', { id: 'chat-notice', class: 'notice', hidden: true }),
        el('div', { id: 'top-up-offer', hidden: true }),
        el('form', { class: 'composer', id: 'composer', onsubmit: send },
          el('label', { for: 'model' }, 'Model'),
          el('select', { id: 'model', onchange: showPrice }),
          el('p', { class: 'muted', id: 'model-price' }),
          el('label', { for: 'message' }, 'Message'),
          el('textarea', { id: 'message', required: true, onkeydown: sendOnEnter }),
          el('div', { class: 'row' },
            el('button', { type: 'submit', id: 'send' }, 'Send'),
            el('button', { type: 'button', class: 'danger', id: 'stop', hidden: true, onclick: () => chat.controller?.abort() }, 'Stop'),
            el('span', { class: 'muted' }, 'Enter sends, Shift+Enter starts a new line.'))))));
  chat.built = true;
}

function sendOnEnter(event) {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('#composer').requestSubmit();
  }
}

function fillModels() {
  const select = $('#model');
  const chosen = select.value || state.defaultModel;
  select.replaceChildren(...state.models.map((m) => el('option', { value: m.id }, `${m.id} (${formatTokens(m.price.per_message)} per message)`)));
  if (state.models.some((m) => m.id === chosen)) select.value = chosen;
  showPrice();
}

const selectedModel = () => state.models.find((m) => m.id === $('#model').value) || state.models[0];

function showPrice() {
  const model = selectedModel();
  $('#model-price').textContent = model ? `Price: ${priceText(model)}; up to ${formatTokens(model.max_completion_tokens)} answer tokens.` : '';
}

/// Forgets the conversation shown, for the next person to log in in this tab.
export function resetChat() {
  chat.controller?.abort();
  Object.assign(chat, { built: false, current: null, messageCount: 0, page: 1, controller: null });
}

export async function showChat(section) {
  if (!chat.built) build(section);
  fillModels();
  await loadConversations(1);
  if (chat.current === null && !$('#messages').childElementCount) openConversation(null);
}

async function loadConversations(page) {
  const list = await api('GET', `/api/conversations/?page=${page}&page_size=${PAGE_SIZE}`);
  const ul = $('#conversations');
  if (page === 1) ul.replaceChildren();
  for (const c of list.results) ul.append(conversationItem(c));
  chat.page = page;
  $('#more-conversations').hidden = !list.next;
  return list.results;
}

function conversationItem(c) {
  const title = c.title || `Conversation ${c.id}`;
  return el('li', { 'data-id': c.id, 'aria-current': c.id === chat.current ? 'true' : 'false' },
    el('button', { type: 'button', class: 'open', title, onclick: () => openConversation(c.id) }, title),
    el('button', { type: 'button', class: 'delete', 'aria-label': `Delete "${title}"`, onclick: () => removeConversation(c.id, title) }, '✕'));
}

function markCurrent() {
  for (const li of $('#conversations').children) li.setAttribute('aria-current', String(Number(li.dataset.id) === chat.current));
}

async function openConversation(id) {
  chat.current = id;
  chat.messageCount = 0;
  notify($('#chat-notice'), '');
  $('#top-up-offer').hidden = true;
  const messages = $('#messages');
  messages.replaceChildren();
  markCurrent();
  if (id === null) {
    messages.append(el('p', { class: 'muted', id: 'empty-thread' }, 'A new conversation: write a message below.'));
    $('#message').focus();
    return;
  }
  const conversation = await api('GET', `/api/conversations/${id}/`);
  for (const m of conversation.messages) {
    messages.append(bubble('user', m.message));
    const answer = bubble('assistant', m.response);
    answer.querySelector('.meta').textContent = exchangeMeta(m);
    messages.append(answer);
  }
  chat.messageCount = conversation.messages.length;
  if (state.models.some((m) => m.id === conversation.model)) {
    $('#model').value = conversation.model;
    showPrice();
  }
  messages.scrollTop = messages.scrollHeight;
}

function exchangeMeta(m) {
  const stopped = { cancelled: 'stopped', error: 'cut short', length: 'length limit' }[m.finish_reason];
  return `${m.model} · ${formatTokens(m.cost)} tokens${stopped ? ` · ${stopped}` : ''}`;
}

function bubble(role, text) {
  const body = el('div', { class: 'body' });
  if (role === 'assistant') renderMarkdown(body, text);
  else body.textContent = text;
  return el('article', { class: `msg ${role}`, 'aria-label': role === 'user' ? 'You' : 'Answer' }, body, el('div', { class: 'meta' }));
}

async function removeConversation(id, title) {
  if (!(await confirmAction('Delete this conversation?', `"${title}" and its messages will be deleted. The ledger keeps what they cost.`, 'Delete'))) return;
  await api('DELETE', `/api/conversations/${id}/`);
  if (chat.current === id) await openConversation(null);
  await loadConversations(1);
}

/// Under the hint that a message costs more than the balance: every way to add tokens there is.
function offerTopUp(needed) {
  const offer = $('#top-up-offer');
  offer.hidden = false;
  const done = (message) => {
    offer.hidden = true;
    notify($('#chat-notice'), message ? `${message} You can send the message now.` : '', 'ok');
  };
  offer.replaceChildren(el('div', { class: 'ways' }, addTokens({ level: 'h2', suggested: Math.max(needed - state.account.tokens, 1), onDone: done })));
  if (!state.account.top_up.enabled) {
    offer.append(el('p', { class: 'muted' }, 'Self-service top-ups are switched off here: redeem a code'
      + `${state.account.payments?.enabled ? ', buy tokens' : ''} or ask the operator for more tokens.`));
  }
}

function busy(on) {
  $('#send').disabled = on;
  $('#stop').hidden = !on;
  if (on) $('#stop').focus();
}

async function send(event) {
  event.preventDefault();
  const text = $('#message').value;
  const model = selectedModel();
  notify($('#chat-notice'), '');
  $('#top-up-offer').hidden = true;
  if (!text.trim()) return notify($('#chat-notice'), 'Write a message first.');
  const needed = reservationFloor(model, text);
  if (needed > state.account.tokens) {
    notify($('#chat-notice'), `This message reserves at least ${formatTokens(needed)} tokens with ${model.id} (you pay only what it uses), but your balance is ${formatTokens(state.account.tokens)}.`);
    return offerTopUp(needed);
  }
  $('#empty-thread')?.remove();
  const messages = $('#messages');
  messages.append(bubble('user', text));
  const answer = bubble('assistant', '');
  answer.querySelector('.meta').textContent = 'Waiting for the answer…';
  messages.append(answer);
  messages.scrollTop = messages.scrollHeight;
  const before = { id: chat.current, count: chat.messageCount, known: new Set([...$('#conversations').children].map((li) => Number(li.dataset.id))) };
  chat.controller = new AbortController();
  busy(true);
  try {
    await stream(text, model, answer, chat.controller.signal);
    $('#message').value = '';
  } catch (err) {
    if (!chat.built) return;  // logged out meanwhile: the view is gone
    if (err.name === 'AbortError') {
      $('#message').value = '';
      await showBilledAfterStop(answer, before);
    } else {
      answer.querySelector('.meta').textContent = err.message;
      notify($('#chat-notice'), err.message);
      if (err instanceof ApiError && err.status === 403 && err.body?.error === 'Insufficient tokens') offerTopUp(needed);
    }
  } finally {
    if (chat.built) {
      chat.controller = null;
      busy(false);
      $('#message').focus();
    }
  }
  if (!chat.built) return;
  await loadConversations(1);
  markCurrent();
}

async function stream(text, model, answer, signal) {
  const body = { message: text, model: model.id, stream: true };
  if (chat.current !== null) body.conversation_id = chat.current;
  const res = await call('POST', '/api/chat/', { body, signal });
  if (!res.ok) {
    const refusal = await res.json().catch(() => null);
    throw new ApiError(res.status, refusal, res.headers.get('retry-after'));
  }
  const target = answer.querySelector('.body');
  const meta = answer.querySelector('.meta');
  let answerText = '';
  let frame = 0;
  meta.textContent = 'Answering…';
  await readEvents(res, (name, data) => {
    if (name === 'delta') {
      answerText += data.text;
      frame ||= requestAnimationFrame(() => { frame = 0; renderMarkdown(target, answerText); });
    } else if (name === 'done') {
      cancelAnimationFrame(frame);
      renderMarkdown(target, answerText);
      chat.current = data.conversation_id;
      chat.messageCount += 1;
      showBalance(data.remaining_tokens);
      meta.textContent = exchangeMeta({ model: data.model, cost: data.cost, finish_reason: data.finish_reason });
    } else if (name === 'error') {
      renderMarkdown(target, answerText);
      if (data.conversation_id) chat.current = data.conversation_id;
      if (data.remaining_tokens !== undefined) showBalance(data.remaining_tokens);
      meta.textContent = `The answer was cut short (${data.error}). You were billed for the part delivered.`;
    }
  });
}

/// After Stop, the server settles the partial answer on its own time: wait (bounded) until the
/// exchange is stored with its cost, then show it and the new balance.
async function showBilledAfterStop(answer, before) {
  const meta = answer.querySelector('.meta');
  meta.textContent = 'Stopped. Reading what it cost…';
  let stored = null;
  for (let attempt = 0; attempt < 25 && !stored; attempt += 1) {
    stored = await findStoredExchange(before);
    if (!stored) await new Promise((resolve) => setTimeout(resolve, Math.min(100 * (attempt + 1), 500)));
  }
  const balance = await refreshBalance();
  meta.textContent = stored
    ? `Stopped. Billed ${formatTokens(stored.cost)} tokens for the part answered; balance ${formatTokens(balance)}.`
    : `Stopped. Balance ${formatTokens(balance)}.`;
  answer.dataset.billed = stored ? String(stored.cost) : '';
}

async function findStoredExchange(before) {
  let id = before.id;
  if (id === null) {
    const newest = await api('GET', '/api/conversations/?page=1&page_size=1');
    const first = newest.results[0];
    if (!first || before.known.has(first.id)) return null;
    id = first.id;
  }
  const conversation = await api('GET', `/api/conversations/${id}/`);
  if (conversation.messages.length <= before.count) return null;
  chat.current = id;
  chat.messageCount = conversation.messages.length;
  return conversation.messages[conversation.messages.length - 1];
}
