import MarkdownIt from 'markdown-it';
import { storableString } from './text.ts';

export const MAX_MARKDOWN_LENGTH = 4000;

// Raw HTML is escaped and markdown-it's link validator drops javascript:/vbscript:/file:/data: URLs,
// so rendering stays safe even for content that never passed validation.
const renderer = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: true });

export function renderMarkdown(source: string): string {
  return renderer.render(source);
}

const RAW_HTML = /<\/?[a-zA-Z!?][^>]*>/;
const UNSAFE_LINK = /\]\(\s*<?\s*(?:javascript|vbscript|data|file)\s*:/i;
const UNSAFE_REFERENCE = /^\s*\[[^\]]+\]:\s*<?\s*(?:javascript|vbscript|data|file)\s*:/im;

/** The safe markdown subset: no raw HTML, no script or data URLs. */
export const ZMarkdown = storableString()
  .max(MAX_MARKDOWN_LENGTH)
  .superRefine((text, ctx) => {
    if (RAW_HTML.test(text)) ctx.addIssue({ code: 'custom', message: 'Raw HTML is not allowed; use markdown' });
    if (UNSAFE_LINK.test(text) || UNSAFE_REFERENCE.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'Links must use http, https, mailto or a relative path' });
    }
  });
