import { toValidationIssues, ZFlowContent, type TFlowContentInput, type TValidationIssue } from '@doorstep/schema';

/** Optional fields an author may clear; empty means "not set", not an invalid empty value. */
const OPTIONAL_TEXT_KEYS = new Set(['url', 'event', 'completionEvent']);

/** The content as it is validated and saved: cleared optional fields and empty translations dropped. */
export function cleanContent(value: any, inTranslations = false): any {
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

export type TSaveStatus = 'saved' | 'unsaved' | 'saving' | 'invalid' | 'conflict' | 'error';
const AUTOSAVE_DELAY_MS = 800;

/**
 * The draft being edited: autosaves after a pause, validates with the same schema the API uses
 * before sending, and on a conflict stops saving until the author chooses what happens to their
 * edits. Nothing is overwritten without the author asking for it.
 */
export class DraftEditor {
  content = $state() as TFlowContentInput & Record<string, any>;
  revision = $state(0);
  status = $state<TSaveStatus>('saved');
  issues = $state<TValidationIssue[]>([]);
  warnings = $state<string[]>([]);
  errorMessage = $state('');
  lastSavedAt = $state<Date | null>(null);
  readonly flowKey: string;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private savedJson: string;

  constructor(flowKey: string, draft: { revision: number; content: any; warnings: string[] }) {
    this.flowKey = flowKey;
    this.content = structuredClone(draft.content);
    this.revision = draft.revision;
    this.warnings = draft.warnings;
    this.savedJson = JSON.stringify(draft.content);
  }

  /** Issues by path (`steps.2.title`), for the fields that show them. */
  issueAt = (path: string): string | undefined => this.issues.find((i) => i.path === path)?.message;

  /** Call after every edit. */
  changed(): void {
    if (this.status === 'conflict') return;
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
    if (this.status === 'conflict' || this.status === 'saving') return;
    const content = cleanContent(this.content);
    const sent = JSON.stringify(content);
    this.status = 'saving';
    try {
      const res = await fetch(`/flows/${this.flowKey}/draft`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ revision: this.revision, content }),
      });
      const body = await res.json();
      if (body.saved) {
        this.revision = body.saved.revision;
        this.warnings = body.saved.warnings;
        this.savedJson = sent;
        this.lastSavedAt = new Date();
        this.status = 'saved';
        // Edits made while the request was in flight still need saving.
        if (JSON.stringify(cleanContent(this.content)) !== sent) this.changed();
      } else if (body.conflict) {
        this.status = 'conflict';
      } else if (body.issues) {
        this.issues = body.issues;
        this.status = 'invalid';
      } else {
        this.errorMessage = body.error ?? 'Saving failed';
        this.status = 'error';
      }
    } catch {
      this.errorMessage = 'Could not reach the studio server; your edits are still here and will be saved when you retry.';
      this.status = 'error';
    }
  }

  /** Conflict: take the other person's draft, keeping ours in local storage to restore or compare. */
  async reloadTheirs(): Promise<void> {
    localStorage.setItem(this.copyKey(), JSON.stringify({ savedAt: new Date().toISOString(), content: this.content }));
    const res = await fetch(`/flows/${this.flowKey}/draft`);
    const draft = await res.json();
    this.content = structuredClone(draft.content);
    this.revision = draft.revision;
    this.warnings = draft.warnings;
    this.savedJson = JSON.stringify(draft.content);
    this.issues = [];
    this.status = 'saved';
  }

  /** Conflict: the author explicitly chose to save their version over the newer one. */
  async saveMineOverTheirs(): Promise<void> {
    const res = await fetch(`/flows/${this.flowKey}/draft`);
    const draft = await res.json();
    this.revision = draft.revision;
    this.status = 'unsaved';
    await this.save();
  }

  keptCopy(): { savedAt: string; content: any } | null {
    const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(this.copyKey());
    return raw ? JSON.parse(raw) : null;
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

  private copyKey(): string {
    return `doorstep:draft-copy:${this.flowKey}`;
  }
}
