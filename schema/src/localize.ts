import type { TFlowContent, TTranslation } from './flow-content.ts';
import { renderMarkdown } from './markdown.ts';

export type TLocalizedCta = { label: string; url: string | null; event: string | null };
export type TLocalizedContent = {
  locale: string;
  welcome: {
    title: string; body: string; bodyHtml: string;
    media: { kind: string; url: string; alt: string } | null;
    primaryCta: TLocalizedCta | null; secondaryCta: TLocalizedCta | null;
  };
  steps: Array<{
    id: string; kind: string; title: string; body: string; bodyHtml: string; cta: TLocalizedCta | null;
    questionIds: string[]; completionEvent: string | null; skippable: boolean; showIf: TFlowContent['steps'][number]['showIf'] | null;
  }>;
  questions: Array<{
    id: string; prompt: string; kind: string; attribute: string; required: boolean;
    options: Array<{ value: string; label: string }>; min: number | null; max: number | null;
  }>;
  checklist: { title: string; items: Array<{ id: string; label: string; completionEvent: string }> } | null;
  activation: { event: string; description: string };
};

/** Picks the best available locale: exact, then its language, then the content's default. */
export function pickLocale(content: TFlowContent, requested: string | null | undefined): string {
  if (!requested) return content.defaultLocale;
  const candidates = [requested, requested.split('-')[0]];
  for (const candidate of candidates) {
    if (candidate === content.defaultLocale || content.translations[candidate]) return candidate;
  }
  return content.defaultLocale;
}

const cache = new WeakMap<TFlowContent, Map<string, TLocalizedContent>>();

/**
 * Content with one locale's translations laid over the default, markdown pre-rendered. Memoized per
 * content object and locale, so a published version is localized once, not on every request.
 */
export function localizeContent(content: TFlowContent, requestedLocale?: string | null): TLocalizedContent {
  const locale = pickLocale(content, requestedLocale);
  let perLocale = cache.get(content);
  if (!perLocale) cache.set(content, (perLocale = new Map()));
  const hit = perLocale.get(locale);
  if (hit) return hit;
  const localized = buildLocalized(content, locale, locale === content.defaultLocale ? {} : content.translations[locale] ?? {});
  perLocale.set(locale, localized);
  return localized;
}

function cta(base: { label: string; url?: string; event?: string } | undefined, label?: string): TLocalizedCta | null {
  if (!base) return null;
  return { label: label ?? base.label, url: base.url ?? null, event: base.event ?? null };
}

function buildLocalized(content: TFlowContent, locale: string, t: TTranslation): TLocalizedContent {
  const welcomeBody = t.welcome?.body ?? content.welcome.body;
  return {
    locale,
    welcome: {
      title: t.welcome?.title ?? content.welcome.title,
      body: welcomeBody,
      bodyHtml: renderMarkdown(welcomeBody),
      media: content.welcome.media ?? null,
      primaryCta: cta(content.welcome.primaryCta, t.welcome?.primaryCta?.label),
      secondaryCta: cta(content.welcome.secondaryCta, t.welcome?.secondaryCta?.label),
    },
    steps: content.steps.map((step) => {
      const ts = t.steps?.[step.id];
      const body = ts?.body ?? step.body;
      return {
        id: step.id,
        kind: step.kind,
        title: ts?.title ?? step.title,
        body,
        bodyHtml: renderMarkdown(body),
        cta: cta(step.cta, ts?.ctaLabel),
        questionIds: step.questionIds,
        completionEvent: step.completionEvent ?? null,
        skippable: step.skippable,
        showIf: step.showIf ?? null,
      };
    }),
    questions: content.questions.map((q) => {
      const tq = t.questions?.[q.id];
      return {
        id: q.id,
        prompt: tq?.prompt ?? q.prompt,
        kind: q.kind,
        attribute: q.attribute,
        required: q.required,
        options: q.options.map((o) => ({ value: o.value, label: tq?.options?.[o.value] ?? o.label })),
        min: q.min ?? null,
        max: q.max ?? null,
      };
    }),
    checklist: content.checklist
      ? {
          title: t.checklist?.title ?? content.checklist.title,
          items: content.checklist.items.map((i) => ({ ...i, label: t.checklist?.items?.[i.id] ?? i.label })),
        }
      : null,
    activation: { event: content.activation.event, description: content.activation.description },
  };
}
