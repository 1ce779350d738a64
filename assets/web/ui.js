// Small DOM helpers shared by the chat page and the console.

/// An element with attributes (`on*` functions become listeners) and children.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/// Shows `message` in the notice element `target` ('' hides it).
export function notify(target, message, kind = 'error') {
  target.textContent = message;
  target.className = `notice ${kind}`;
  target.hidden = !message;
  if (message && kind === 'error') target.setAttribute('role', 'alert');
  else target.setAttribute('role', 'status');
}

/// Asks in a modal <dialog>; resolves true when confirmed. Focus returns where it was.
export function confirmAction(title, text, confirmLabel = 'Confirm', danger = true) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const ok = el('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : '' }, confirmLabel);
    const dialog = el('dialog', { 'aria-labelledby': 'confirm-title' },
      el('form', { method: 'dialog' },
        el('h2', { id: 'confirm-title' }, title),
        el('p', {}, text),
        el('div', { class: 'row' }, ok, el('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel'))));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (previous && previous.focus) previous.focus();
      resolve(dialog.returnValue === 'ok');
    });
    document.body.append(dialog);
    dialog.showModal();
    ok.focus();
  });
}

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/// An Idempotency-Key; getRandomValues, unlike randomUUID, works on plain-HTTP origins too.
export const newIdempotencyKey = () => [...crypto.getRandomValues(new Uint8Array(16))]
  .map((b) => b.toString(16).padStart(2, '0')).join('');

export const formatTokens = (n) => Number(n).toLocaleString('en-US');

/// Copies text to the clipboard; false when the browser refuses.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/// Starts a file download of `text`.
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
