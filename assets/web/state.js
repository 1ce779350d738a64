// What the chat page knows about the person: their account (GET /api/account/), the models
// with their prices, and the balance shown in the header.
import { api } from './api.js';
import { $, formatTokens } from './ui.js';

export const state = { account: null, models: [], defaultModel: null };

export function showBalance(tokens) {
  if (state.account) state.account.tokens = tokens;
  $('#balance').textContent = `Balance: ${formatTokens(tokens)} tokens`;
}

export async function loadAccount() {
  state.account = await api('GET', '/api/account/');
  showBalance(state.account.tokens);
  return state.account;
}

export async function refreshBalance() {
  const { tokens } = await api('GET', '/api/tokens/');
  showBalance(tokens);
  return tokens;
}

export async function loadModels() {
  const list = await api('GET', '/api/models/');
  state.models = list.results;
  state.defaultModel = list.default;
}

/// The most a message can reserve before it is sent: the fixed price, the prompt price on its
/// bytes (a token is at least a byte) and the completion price on the model's cap. The server's
/// bound also counts the conversation's earlier turns, so this is a lower bound.
export function reservationFloor(model, message) {
  const perK = (price, tokens) => (price > 0 && tokens > 0 ? Math.ceil((price * tokens) / 1000) : 0);
  const promptTokens = new TextEncoder().encode(message).length + 16;
  return model.price.per_message
    + perK(model.price.per_1k_prompt_tokens, promptTokens)
    + perK(model.price.per_1k_completion_tokens, model.max_completion_tokens);
}

export function priceText(model) {
  const p = model.price;
  const parts = [`${formatTokens(p.per_message)} per message`];
  if (p.per_1k_prompt_tokens) parts.push(`${formatTokens(p.per_1k_prompt_tokens)} per 1k prompt tokens`);
  if (p.per_1k_completion_tokens) parts.push(`${formatTokens(p.per_1k_completion_tokens)} per 1k answer tokens`);
  return parts.join(', ');
}
