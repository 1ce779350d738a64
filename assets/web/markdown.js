// Answers as Markdown: rendered by marked, sanitized by DOMPurify before they touch the page.
import { marked } from '/static/vendor/marked.esm.js';
import DOMPurify from '/static/vendor/purify.es.mjs';

marked.setOptions({ gfm: true, breaks: true });

export function renderMarkdown(target, text) {
  // No style attributes: the page's CSP would refuse them anyway.
  target.innerHTML = DOMPurify.sanitize(marked.parse(text), { FORBID_ATTR: ['style'] });
}
