import { randomUUID } from 'node:crypto';
import type { TDatabase } from '../db/database.ts';

export const CHANGES_CHANNEL = 'doorstep_changes';

/** Users whose answers or progress changed on the publishing process. */
export type TProfilesChange = { type: 'profiles'; environmentId: string; userIds: string[] };

export type TChange =
  /** `progress`: a publish restarted or exited users mid-flow, so cached profiles are out of date too. */
  | { type: 'content'; workspaceId: string; progress?: boolean }
  | { type: 'keys' }
  | TProfilesChange
  /** Messages may have been missed (listener reconnected): drop everything cached. */
  | { type: 'all' };

/**
 * Tells every API process what changed. The publishing process applies a change at once; the others
 * hear it over LISTEN/NOTIFY (in-process on PGlite).
 */
export class ChangeBus {
  private readonly nodeId = randomUUID();
  private readonly handlers = new Set<(change: TChange) => void>();
  private stopListening: (() => Promise<void>) | null = null;

  constructor(private readonly db: TDatabase) {}

  async start(): Promise<void> {
    this.stopListening = await this.db.listen(
      CHANGES_CHANNEL,
      (payload) => this.receive(payload),
      () => this.dispatch({ type: 'all' }),
    );
  }

  subscribe(handler: (change: TChange) => void): void {
    this.handlers.add(handler);
  }

  async publish(change: TChange): Promise<void> {
    this.dispatch(change);
    await this.db.notify(CHANGES_CHANNEL, JSON.stringify({ origin: this.nodeId, change }));
  }

  /** Tells the other processes only: for changes this process has already applied itself. */
  async announce(change: TChange): Promise<void> {
    await this.db.notify(CHANGES_CHANNEL, JSON.stringify({ origin: this.nodeId, change }));
  }

  async stop(): Promise<void> {
    await this.stopListening?.();
  }

  private receive(payload: string): void {
    try {
      const message = JSON.parse(payload) as { origin: string; change: TChange };
      if (message.origin !== this.nodeId) this.dispatch(message.change);
    } catch {
      this.dispatch({ type: 'all' });
    }
  }

  private dispatch(change: TChange): void {
    for (const handler of this.handlers) handler(change);
  }
}
