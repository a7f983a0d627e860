import MarkdownIt from 'markdown-it';
import { storableString } from './text.ts';

export const MAX_MARKDOWN_LENGTH = 4000;

const SAFE_SCHEME = /^(?:https?|mailto):/i;
const ANY_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * Where a link or image may point: http(s), mailto, or a relative URL. markdown-it asks this of every
 * target after decoding entities and escapes and percent-encoding the rest, so `jav&#x61;script:`
 * arrives here as `javascript:`, and a tab that would split a scheme is `%09`.
 */
export function isSafeLink(url: string): boolean {
  const target = url.trim();
  return SAFE_SCHEME.test(target) || !ANY_SCHEME.test(target);
}

/** Targets refused while `unsafeLinks` parses; null otherwise (rendering refuses them silently). */
let refused: string[] | null = null;

// Raw HTML is escaped and only safe links become links, so rendering stays safe even for content
// that never passed validation: a refused link is left as plain text.
const renderer = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: true });
renderer.validateLink = (url) => {
  const safe = isSafeLink(url);
  if (!safe) refused?.push(url);
  return safe;
};

export function renderMarkdown(source: string): string {
  return renderer.render(source);
}

/** The link and image targets of `source` that rendering would drop, as markdown-it reads them. */
export function unsafeLinks(source: string): string[] {
  refused = [];
  try {
    renderer.parse(source, {});
    return refused;
  } finally {
    refused = null;
  }
}

const RAW_HTML = /<\/?[a-zA-Z!?][^>]*>/;

/** The safe markdown subset: no raw HTML, links to http(s), mailto or relative URLs only. */
export const ZMarkdown = storableString()
  .max(MAX_MARKDOWN_LENGTH)
  .superRefine((text, ctx) => {
    if (RAW_HTML.test(text)) ctx.addIssue({ code: 'custom', message: 'Raw HTML is not allowed; use markdown' });
    if (unsafeLinks(text).length > 0) ctx.addIssue({ code: 'custom', message: 'Links must use http, https, mailto or a relative path' });
  });
