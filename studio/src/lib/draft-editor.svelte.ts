import { toValidationIssues, variableWarnings, ZFlowContent, type TAttributes, type TFlowContent, type TValidationIssue } from '@doorstep/schema';
import { z } from 'zod';

/** Optional fields an author may clear; empty means "not set", not an invalid empty value. */
const OPTIONAL_TEXT_KEYS = new Set(['url', 'event', 'completionEvent']);

/** The content as it is validated and saved: cleared optional fields and empty translations dropped. */
export function cleanContent(value: unknown, inTranslations = false): unknown {
  if (Array.isArray(value)) return value.map((item) => cleanContent(item, inTranslations));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const nestedInTranslations = inTranslations || key === 'translations';
    const cleaned = cleanContent(inner, nestedInTranslations);
    if (cleaned === '' && (inTranslations || OPTIONAL_TEXT_KEYS.has(key))) continue;
    if (inTranslations && cleaned && typeof cleaned === 'object' && !Array.isArray(cleaned) && Object.keys(cleaned).length === 0) continue;
    out[key] = cleaned;
  }
  return out;
}

/**
 * A draft as the studio server hands it over. The content is read through the content schema, so
 * the editor works on it with every default filled in (lists present, flags set).
 */
export const ZDraft = z.object({ revision: z.number().int(), content: ZFlowContent, warnings: z.array(z.string()) });
export type TDraft = z.output<typeof ZDraft>;

/** What the autosave endpoint answers (see flows/[key]/draft/+server.ts). */
const ZSaveAnswer = z.union([
  z.object({ saved: z.object({ revision: z.number().int(), warnings: z.array(z.string()) }) }),
  z.object({ conflict: z.object({ currentRevision: z.number().int().nullable(), message: z.string() }) }),
  z.object({ issues: z.array(z.object({ path: z.string(), message: z.string() })) }),
  z.object({ error: z.string() }),
]);
export type TSaveAnswer = z.input<typeof ZSaveAnswer>;
/** The author's own earlier edits, which may not validate yet: the editor reports their problems once restored. */
const ZKeptCopy = z.object({ savedAt: z.string(), content: z.custom<TFlowContent>((value) => !!value && typeof value === 'object') });

export type TSaveStatus = 'saved' | 'unsaved' | 'saving' | 'invalid' | 'conflict' | 'error';
const AUTOSAVE_DELAY_MS = 800;

/**
 * The draft being edited: autosaves after a pause, validates with the same schema the API uses
 * before sending, and on a conflict stops saving until the author chooses what happens to their
 * edits. Nothing is overwritten without the author asking for it.
 */
export class DraftEditor {
  content: TFlowContent;
  revision = $state(0);
  status = $state<TSaveStatus>('saved');
  issues = $state<TValidationIssue[]>([]);
  warnings = $state<string[]>([]);
  errorMessage = $state('');
  /** When the last save succeeded, in epoch milliseconds. */
  lastSavedAt = $state<number | null>(null);
  /** The preview's sample user: a variable they have counts as provided. */
  sampleAttributes = $state<TAttributes>({});
  readonly flowKey: string;
  /** The workspace's segment and audience conditions: the attributes they mention are ones apps send. */
  private readonly conditions: readonly unknown[];
  /** Personal-text warnings by field path; advice only, they never stop a save. */
  private readonly variableWarnings = $derived.by(() => {
    const byPath: Record<string, string[]> = {};
    for (const { path, message } of variableWarnings(this.content, { conditions: this.conditions, sampleAttributes: this.sampleAttributes })) {
      (byPath[path] ??= []).push(message);
    }
    return byPath;
  });
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** A save request has not answered yet. */
  private inFlight = false;
  private savedJson: string;

  constructor(flowKey: string, draft: TDraft, conditions: readonly unknown[] = []) {
    this.flowKey = flowKey;
    this.conditions = conditions;
    this.content = $state(structuredClone(draft.content));
    this.revision = draft.revision;
    this.warnings = draft.warnings;
    this.savedJson = JSON.stringify(draft.content);
  }

  /** Issues by path (`steps.2.title`), for the fields that show them. */
  issueAt = (path: string): string | undefined => this.issues.find((i) => i.path === path)?.message;

  /** Personal-text warnings for a field (`welcome.title`): variables nothing provides, `{{…}}` that are not variables. */
  warningsAt = (path: string): string[] | undefined => (Object.hasOwn(this.variableWarnings, path) ? this.variableWarnings[path] : undefined);

  /** Call after every edit. */
  changed(): void {
    if (this.status === 'conflict') return;
    // A save in flight looks at the content again when it lands; a second save now would send the
    // same revision and meet its own conflict.
    if (this.inFlight) return;
    const json = JSON.stringify(cleanContent(this.content));
    if (json === this.savedJson) {
      this.status = 'saved';
      return;
    }
    const parsed = ZFlowContent.safeParse(cleanContent(this.content));
    this.issues = parsed.success ? [] : toValidationIssues(parsed.error);
    this.status = parsed.success ? 'unsaved' : 'invalid';
    if (this.timer) clearTimeout(this.timer);
    if (parsed.success) this.timer = setTimeout(() => void this.save(), AUTOSAVE_DELAY_MS);
  }

  async save(): Promise<void> {
    if (this.status === 'conflict' || this.inFlight) return;
    const content = cleanContent(this.content);
    const sent = JSON.stringify(content);
    this.status = 'saving';
    this.inFlight = true;
    try {
      const res = await fetch(`/flows/${this.flowKey}/draft`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ revision: this.revision, content }),
      });
      const body = ZSaveAnswer.parse(await res.json());
      this.inFlight = false;
      if ('saved' in body) {
        this.revision = body.saved.revision;
        this.warnings = body.saved.warnings;
        this.savedJson = sent;
        this.lastSavedAt = Date.now();
        this.status = 'saved';
        // Edits made while the request was in flight still need saving.
        if (JSON.stringify(cleanContent(this.content)) !== sent) this.changed();
      } else if ('conflict' in body) {
        this.status = 'conflict';
      } else if ('issues' in body) {
        this.issues = body.issues;
        this.status = 'invalid';
      } else {
        this.errorMessage = body.error || 'Saving failed';
        this.status = 'error';
      }
    } catch {
      this.errorMessage = 'Could not reach the studio server; your edits are still here and will be saved when you retry.';
      this.status = 'error';
    } finally {
      this.inFlight = false;
    }
  }

  /** Conflict: take the other person's draft, keeping ours in local storage to restore or compare. */
  async reloadTheirs(): Promise<void> {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a throwaway Date, only read once to stamp the stored copy
    localStorage.setItem(this.copyKey(), JSON.stringify({ savedAt: new Date().toISOString(), content: this.content }));
    const draft = await this.fetchDraft();
    this.content = draft.content;
    this.revision = draft.revision;
    this.warnings = draft.warnings;
    this.savedJson = JSON.stringify(draft.content);
    this.issues = [];
    this.status = 'saved';
  }

  /** Conflict: the author explicitly chose to save their version over the newer one. */
  async saveMineOverTheirs(): Promise<void> {
    const draft = await this.fetchDraft();
    this.revision = draft.revision;
    this.status = 'unsaved';
    await this.save();
  }

  /** The copy kept by `reloadTheirs`; one that no longer reads as content is ignored. */
  keptCopy(): z.output<typeof ZKeptCopy> | null {
    const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(this.copyKey());
    if (!raw) return null;
    try {
      return ZKeptCopy.safeParse(JSON.parse(raw)).data ?? null;
    } catch {
      return null;
    }
  }

  restoreCopy(): void {
    const copy = this.keptCopy();
    if (!copy) return;
    this.content = copy.content;
    localStorage.removeItem(this.copyKey());
    this.changed();
  }

  discardCopy(): void {
    localStorage.removeItem(this.copyKey());
  }

  private async fetchDraft(): Promise<TDraft> {
    const res = await fetch(`/flows/${this.flowKey}/draft`);
    return ZDraft.parse(await res.json());
  }

  private copyKey(): string {
    return `doorstep:draft-copy:${this.flowKey}`;
  }
}
