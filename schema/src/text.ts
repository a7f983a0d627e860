import { z } from 'zod';

/**
 * A UTF-16 surrogate without its other half: what is left of an emoji cut in two, or a forged
 * "\ud800". It is not Unicode text; PostgreSQL's jsonb refuses it and a text column silently turns it
 * into U+FFFD.
 */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored and read back as written, in words for whoever wrote it; null when it can. `what` names it: text, or names (keys). */
export function unstorableText(text: string, what = 'Text'): string | null {
  // NUL is the one character neither PostgreSQL's text nor its jsonb can hold.
  if (text.includes('\0')) return `${what} cannot contain the NUL character (U+0000)`;
  // PGlite, the embedded database, drops a U+FEFF that starts a text value when it reads it back: an
  // id would no longer find its row. Refused on PostgreSQL too, so both databases take the same text.
  if (text.charCodeAt(0) === 0xfeff) return `${what} cannot start with U+FEFF (a byte order mark), which the embedded database does not read back`;
  const surrogate = UNPAIRED_SURROGATE.exec(text);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return `${what} cannot contain an unpaired surrogate (U+${code}), which is not valid Unicode`;
  }
  return null;
}

/** A string that can be stored: the base of every text the schemas accept from people and apps. */
export const storableString = () =>
  z.string().superRefine((text, ctx) => {
    const problem = unstorableText(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

type TJsonProblem = { path: (string | number)[]; message: string };

/**
 * The first key or string in a JSON value that cannot be stored, with its path, for the values the
 * schemas take as they come (attributes, event properties, condition values).
 */
export function unstorableJson(value: unknown, path: (string | number)[] = []): TJsonProblem | null {
  if (typeof value === 'string') {
    const message = unstorableText(value);
    return message ? { path, message } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableJson(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const message = unstorableText(key, 'Names');
      if (message) return { path, message };
      const found = unstorableJson(inner, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/** Adds `unstorableJson`'s finding, if any, as an issue at its path. */
export function refineStorableJson(value: unknown, ctx: z.RefinementCtx): void {
  const found = unstorableJson(value);
  if (found) ctx.addIssue({ code: 'custom', path: found.path, message: found.message });
}
