// Personal text: `{{firstName}}` and `{{firstName|there}}` in every user-visible string, filled in
// from the attributes the conditions see. Pure, so the API and the studio preview render alike.
import type { TAttributes } from './condition.ts';
import { LOGICAL_OPERATORS } from './condition.ts';
import type { TFlowContent } from './flow-content.ts';
import { pickLocale, type TLocalizedContent, type TLocalizedCta } from './localize.ts';
import { renderMarkdown } from './markdown.ts';

/**
 * `{{ name }}` or `{{ name | fallback }}`: the name is an attribute path (`firstName`,
 * `company.name`), spaces around it are ignored; the fallback is the text after the first `|`,
 * trimmed, without braces or line breaks. Anything else between `{{` and `}}` is not a variable and
 * stays as written (the studio says so), so content published before variables existed keeps
 * rendering as it did.
 */
const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(?:\|([^{}\r\n]*))?\}\}/g;

export type TVariable = { name: string; fallback: string | null };
/** A text cut into literal parts and variables; null when it has no variables. */
export type TTemplate = Array<string | TVariable>;

export function parseTemplate(text: string): TTemplate | null {
  if (!text.includes('{{')) return null;
  const parts: TTemplate = [];
  let at = 0;
  for (const match of text.matchAll(VARIABLE)) {
    if (match.index > at) parts.push(text.slice(at, match.index));
    parts.push({ name: match[1], fallback: match[2] === undefined ? null : match[2].trim() });
    at = match.index + match[0].length;
  }
  if (at === 0) return null;
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

/** The `{{…}}` of a text that are not variables: they reach users as written. */
export function malformedVariables(text: string): string[] {
  const rest = text.replace(VARIABLE, '');
  const found: string[] = [];
  for (let at = rest.indexOf('{{'); at >= 0; at = rest.indexOf('{{', at + 2)) {
    const close = rest.indexOf('}}', at + 2);
    const end = close >= 0 && close - at <= 80 ? close + 2 : Math.min(rest.length, at + 30);
    found.push(rest.slice(at, end));
  }
  return found;
}

/**
 * The value a variable shows: strings (non-blank), finite numbers and booleans. A missing, null or
 * blank value, a list or an object shows the fallback instead. Own properties only, so a name such
 * as `constructor` never reaches into the prototype.
 */
export function variableValue(attributes: TAttributes, name: string): string | null {
  let current: unknown = attributes;
  for (const part of name.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, part)) return null;
    current = (current as Record<string, unknown>)[part];
  }
  if (typeof current === 'string') return current.trim() === '' ? null : current;
  if (typeof current === 'number') return Number.isFinite(current) ? String(current) : null;
  if (typeof current === 'boolean') return String(current);
  return null;
}

/** How a value is made safe where it lands. Fallbacks are the author's own text and go in as written. */
export type TEscape = (value: string) => string;
export const asText: TEscape = (value) => value;
/**
 * Markdown: line breaks become spaces and every ASCII punctuation mark is backslash-escaped, so a
 * value cannot start a heading, list or new paragraph, nor make a link, an image, emphasis or HTML.
 */
export const escapeMarkdown: TEscape = (value) => value.replace(/[\r\n]+/g, ' ').replace(/[!-/:-@[-`{-~]/g, '\\$&');
/** URLs: the value is one URL component, so it cannot change the scheme, host or path around it. */
export const escapeUrlComponent: TEscape = (value) => encodeURIComponent(value);

export function renderTemplate(template: TTemplate, attributes: TAttributes, escape: TEscape): string {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = variableValue(attributes, part.name);
    out += value === null ? part.fallback ?? '' : escape(value);
  }
  return out;
}

/** One text with its variables filled in; text without variables comes back as it is. */
export function personalizeText(text: string, attributes: TAttributes, escape: TEscape = asText): string {
  const template = parseTemplate(text);
  return template ? renderTemplate(template, attributes, escape) : text;
}

/** The templates of one localized content, by text; null when none of its texts has a variable. */
type TPlan = Map<string, TTemplate>;
const plans = new WeakMap<TLocalizedContent, TPlan | null>();

function planOf(localized: TLocalizedContent): TPlan | null {
  let plan = plans.get(localized);
  if (plan !== undefined) return plan;
  plan = new Map();
  const visit = (text: string | null | undefined) => {
    if (!text || plan!.has(text)) return;
    const template = parseTemplate(text);
    if (template) plan!.set(text, template);
  };
  const { welcome, steps, questions, checklist } = localized;
  for (const text of [welcome.title, welcome.body, welcome.media?.alt]) visit(text);
  for (const cta of [welcome.primaryCta, welcome.secondaryCta, ...steps.map((s) => s.cta)]) {
    visit(cta?.label);
    visit(cta?.url);
  }
  for (const step of steps) {
    visit(step.title);
    visit(step.body);
  }
  for (const question of questions) {
    visit(question.prompt);
    for (const option of question.options) visit(option.label);
  }
  visit(checklist?.title);
  for (const item of checklist?.items ?? []) visit(item.label);
  plan = plan.size > 0 ? plan : null;
  plans.set(localized, plan);
  return plan;
}

/**
 * Localized content with its variables filled in for one user's attributes. Whether a content has
 * variables is worked out once per localized content; content without any is returned as it is,
 * so the common case costs one lookup per request. Bodies with variables are re-rendered to HTML
 * with their values escaped for markdown; texts stay text (clients set them as text, never HTML);
 * values in URLs are URL-encoded.
 */
export function personalizeContent(localized: TLocalizedContent, attributes: TAttributes): TLocalizedContent {
  const plan = planOf(localized);
  if (!plan) return localized;
  const fill = (value: string, escape: TEscape) => {
    const template = plan.get(value);
    return template ? renderTemplate(template, attributes, escape) : value;
  };
  const text = (value: string) => fill(value, asText);
  const body = (source: string, html: string) => {
    if (!plan.has(source)) return { body: source, bodyHtml: html };
    const filled = fill(source, escapeMarkdown);
    return { body: filled, bodyHtml: renderMarkdown(filled) };
  };
  const cta = (action: TLocalizedCta | null): TLocalizedCta | null =>
    action && { ...action, label: text(action.label), url: action.url === null ? null : fill(action.url, escapeUrlComponent) };
  const { welcome, checklist } = localized;
  return {
    ...localized,
    welcome: {
      ...welcome,
      title: text(welcome.title),
      ...body(welcome.body, welcome.bodyHtml),
      media: welcome.media && { ...welcome.media, alt: text(welcome.media.alt) },
      primaryCta: cta(welcome.primaryCta),
      secondaryCta: cta(welcome.secondaryCta),
    },
    steps: localized.steps.map((step) => ({ ...step, title: text(step.title), ...body(step.body, step.bodyHtml), cta: cta(step.cta) })),
    questions: localized.questions.map((q) => ({ ...q, prompt: text(q.prompt), options: q.options.map((o) => ({ ...o, label: text(o.label) })) })),
    checklist: checklist && { title: text(checklist.title), items: checklist.items.map((item) => ({ ...item, label: text(item.label) })) },
  };
}

export type TRenderedEmail = { locale: string; subject: string; text: string; html: string };

/**
 * An onboarding email for one user, in their locale (with the content's fallback): the subject as
 * text, the body as the plain-text part (the markdown source with values as they are) and as HTML
 * (values escaped for markdown, then rendered). Null when the content has no email with that id.
 * For the sender (issue 12); `user` is the profile as the conditions see it.
 */
export function renderOnboardingEmail(
  content: TFlowContent, emailId: string, user: { id: string; attributes: TAttributes }, locale?: string | null,
): TRenderedEmail | null {
  const email = content.emails.find((e) => e.id === emailId);
  if (!email) return null;
  const picked = pickLocale(content, locale);
  const translated = picked === content.defaultLocale ? undefined : content.translations[picked]?.emails?.[emailId];
  const attributes = { ...user.attributes, id: user.id };
  const subject = translated?.subject ?? email.subject;
  const body = translated?.body ?? email.body;
  return {
    locale: picked,
    subject: personalizeText(subject, attributes),
    text: personalizeText(body, attributes),
    html: renderMarkdown(personalizeText(body, attributes, escapeMarkdown)),
  };
}

// Authoring: which variables a content uses, and which of them nothing provides.

export type TVariableUse = TVariable & { path: string };
export type TMalformedUse = { path: string; text: string };

/** Every user-visible text of a content (as the editor holds it, possibly incomplete), by its validation path. */
function userVisibleTexts(content: Partial<TFlowContent>): Array<[string, string | undefined]> {
  const texts: Array<[string, string | undefined]> = [];
  const add = (path: string, text: unknown) => {
    if (typeof text === 'string') texts.push([path, text]);
  };
  const addCta = (path: string, cta: { label?: string; url?: string } | undefined) => {
    add(`${path}.label`, cta?.label);
    add(`${path}.url`, cta?.url);
  };
  const { welcome, steps = [], questions = [], checklist, emails = [], translations = {} } = content;
  add('welcome.title', welcome?.title);
  add('welcome.body', welcome?.body);
  add('welcome.media.alt', welcome?.media?.alt);
  addCta('welcome.primaryCta', welcome?.primaryCta);
  addCta('welcome.secondaryCta', welcome?.secondaryCta);
  steps.forEach((step, i) => {
    add(`steps.${i}.title`, step.title);
    add(`steps.${i}.body`, step.body);
    addCta(`steps.${i}.cta`, step.cta);
  });
  questions.forEach((q, i) => {
    add(`questions.${i}.prompt`, q.prompt);
    (q.options ?? []).forEach((o, j) => add(`questions.${i}.options.${j}.label`, o.label));
  });
  add('checklist.title', checklist?.title);
  (checklist?.items ?? []).forEach((item, i) => add(`checklist.items.${i}.label`, item.label));
  emails.forEach((email, i) => {
    add(`emails.${i}.subject`, email.subject);
    add(`emails.${i}.body`, email.body);
  });
  for (const [locale, t] of Object.entries(translations)) {
    const at = `translations.${locale}`;
    add(`${at}.welcome.title`, t.welcome?.title);
    add(`${at}.welcome.body`, t.welcome?.body);
    add(`${at}.welcome.primaryCta.label`, t.welcome?.primaryCta?.label);
    add(`${at}.welcome.secondaryCta.label`, t.welcome?.secondaryCta?.label);
    for (const [id, s] of Object.entries(t.steps ?? {})) {
      add(`${at}.steps.${id}.title`, s.title);
      add(`${at}.steps.${id}.body`, s.body);
      add(`${at}.steps.${id}.ctaLabel`, s.ctaLabel);
    }
    for (const [id, q] of Object.entries(t.questions ?? {})) {
      add(`${at}.questions.${id}.prompt`, q.prompt);
      for (const [value, label] of Object.entries(q.options ?? {})) add(`${at}.questions.${id}.options.${value}`, label);
    }
    add(`${at}.checklist.title`, t.checklist?.title);
    for (const [id, label] of Object.entries(t.checklist?.items ?? {})) add(`${at}.checklist.items.${id}`, label);
    for (const [id, e] of Object.entries(t.emails ?? {})) {
      add(`${at}.emails.${id}.subject`, e.subject);
      add(`${at}.emails.${id}.body`, e.body);
    }
  }
  return texts;
}

/** The variables a content uses and the `{{…}}` that are not variables, each with the path of its field. */
export function contentVariables(content: Partial<TFlowContent>): { uses: TVariableUse[]; malformed: TMalformedUse[] } {
  const uses: TVariableUse[] = [];
  const malformed: TMalformedUse[] = [];
  for (const [path, text] of userVisibleTexts(content)) {
    if (!text?.includes('{{')) continue;
    for (const part of parseTemplate(text) ?? []) if (typeof part !== 'string') uses.push({ ...part, path });
    for (const bad of malformedVariables(text)) malformed.push({ path, text: bad });
  }
  return { uses, malformed };
}

/** The attribute paths a condition looks at (through `$and`, `$or`, `$nor` and `$not`). */
export function conditionAttributes(condition: unknown, into = new Set<string>()): Set<string> {
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) return into;
  for (const [key, value] of Object.entries(condition)) {
    if (key === '$not') conditionAttributes(value, into);
    else if ((LOGICAL_OPERATORS as readonly string[]).includes(key)) for (const inner of Array.isArray(value) ? value : []) conditionAttributes(inner, into);
    else if (!key.startsWith('$')) into.add(key);
  }
  return into;
}

export type TVariableWarning = { path: string; message: string };

/**
 * Plain-words warnings for the editor: a variable that no question of the flow sets, that is not
 * `id`, that no condition mentions (the workspace's segments and audiences, the flow's show-if) and
 * that the preview's sample user does not have, will show its fallback to everyone; and a `{{…}}`
 * that is not a variable shows as written.
 */
export function variableWarnings(
  content: Partial<TFlowContent>, known: { conditions?: Iterable<unknown>; sampleAttributes?: TAttributes } = {},
): TVariableWarning[] {
  const { uses, malformed } = contentVariables(content);
  const provided = new Set<string>(['id']);
  for (const q of content.questions ?? []) if (q.attribute) provided.add(q.attribute);
  for (const condition of known.conditions ?? []) conditionAttributes(condition, provided);
  for (const step of content.steps ?? []) conditionAttributes(step.showIf, provided);
  const sample = known.sampleAttributes ?? {};
  const warnings: TVariableWarning[] = [];
  for (const use of uses) {
    if (provided.has(use.name) || variableValue(sample, use.name) !== null) continue;
    const shown = use.fallback ? `users will see the fallback “${use.fallback}”` : `users will see nothing here (add a fallback: {{${use.name}|…}})`;
    warnings.push({ path: use.path, message: `Nothing provides {{${use.name}}}: ${shown}.` });
  }
  for (const bad of malformed) {
    warnings.push({ path: bad.path, message: `“${bad.text}” is not a variable, so users will see it as written. Write {{attribute}} or {{attribute|fallback}}.` });
  }
  return warnings;
}
