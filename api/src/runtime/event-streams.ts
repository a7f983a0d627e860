import { log } from '../log.ts';
import type { TChange } from './change-bus.ts';
import type { SnapshotStore } from './snapshot-store.ts';

/**
 * A public key ships inside apps, so anyone can open streams with it: these caps bound what one key,
 * and everyone together, can hold open on one API node. Each stream costs a socket, a few hundred
 * bytes of state and a heartbeat every 25 s. An environment with more live sessions than this on one
 * node should spread them over more nodes (the load balancer does) or serve them without `live`.
 */
export const EVENT_STREAM_LIMITS = { perEnvironment: 1_000, perNode: 10_000 };
export type TEventStreamLimits = typeof EVENT_STREAM_LIMITS;

/** Comments every 25 s keep proxies and load balancers (often 30-60 s idle timeouts) from cutting the stream. */
export const HEARTBEAT_MS = 25_000;
/** What EventSource waits before reconnecting after the stream ends (the SSE `retry:` field). */
export const RECONNECT_MS = 3_000;
/**
 * Streams end after 30 to 60 minutes (spread, so a node's streams do not all come back at once) and
 * the client reconnects: connections rebalance across nodes after a deploy or a scale-out, and a
 * revoked key or a changed origin list is checked again.
 */
const MAX_STREAM_AGE_MS = { min: 30 * 60_000, max: 60 * 60_000 };
/** A reader that has not taken this many messages is stuck (or gone without a FIN): its stream is ended rather than buffered. */
const MAX_QUEUED_CHUNKS = 8;

type TStream = {
  environmentId: string;
  controller: ReadableStreamDefaultController<Uint8Array>;
  heartbeat: ReturnType<typeof setInterval>;
  expiry: ReturnType<typeof setTimeout>;
};

type TEnvironmentStreams = {
  workspaceId: string;
  streams: Set<TStream>;
  /** The ETag last announced to this environment's streams. */
  etag: string | null;
  /** A refresh is running; `again` asks it to run once more when it ends (a change arrived meanwhile). */
  refreshing: boolean;
  again: boolean;
  force: boolean;
};

export type TOpenResult =
  | { ok: true; body: ReadableStream<Uint8Array> }
  | { ok: false; status: 429 | 503; retryAfterSeconds: number; message: string };

const encoder = new TextEncoder();

/** One SSE message (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export function sseMessage(fields: { event?: string; id?: string; retry?: number; data: unknown }): string {
  return [
    fields.retry === undefined ? '' : `retry: ${fields.retry}\n`,
    fields.id === undefined ? '' : `id: ${fields.id}\n`,
    fields.event === undefined ? '' : `event: ${fields.event}\n`,
    `data: ${JSON.stringify(fields.data)}\n\n`,
  ].join('');
}

/** What a change notification carries: OFREP's `refetchEvaluation` (ADR-0008), on the default `message` event. */
export const changeMessage = (etag: string) => sseMessage({ event: 'message', id: etag, data: { type: 'refetchEvaluation', etag } });

/**
 * The open `GET /events` streams of this API node, by environment. Every node hears content changes
 * on the change bus; for an environment with streams here it takes the rebuilt snapshot's ETag and,
 * when it moved, tells those streams to refetch. A listener that reconnected (`all`) may have missed
 * changes, so every stream is told, whatever the ETag says.
 */
export class EventStreamHub {
  private readonly environments = new Map<string, TEnvironmentStreams>();
  private total = 0;
  private closed = false;

  constructor(private readonly snapshots: SnapshotStore, private readonly limits: TEventStreamLimits = EVENT_STREAM_LIMITS) {}

  get size(): number {
    return this.total;
  }

  /**
   * Opens a stream for an environment, starting with a `ready` message that carries the current ETag
   * (so a client can tell it missed a change while it was away) and, when the client reconnects
   * with an older `Last-Event-ID`, a change message at once.
   */
  async open(target: { environmentId: string; workspaceId: string }, lastEventId: string | null): Promise<TOpenResult> {
    if (this.closed) return { ok: false, status: 503, retryAfterSeconds: 5, message: 'The server is shutting down' };
    const { etag } = await this.snapshots.get(target.environmentId);
    // Counted after the await, with nothing awaited until the stream is registered: concurrent opens cannot overshoot.
    if (this.total >= this.limits.perNode) {
      return { ok: false, status: 503, retryAfterSeconds: 30, message: 'This server holds as many event streams as it can; retry later' };
    }
    if ((this.environments.get(target.environmentId)?.streams.size ?? 0) >= this.limits.perEnvironment) {
      return { ok: false, status: 429, retryAfterSeconds: 60, message: `This environment has ${this.limits.perEnvironment} open event streams on this server; retry later` };
    }
    let stream: TStream | null = null;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const ready = sseMessage({ retry: RECONNECT_MS, event: 'ready', id: etag, data: { type: 'ready', etag } });
        controller.enqueue(encoder.encode(ready + (lastEventId !== null && lastEventId !== etag ? changeMessage(etag) : '')));
        stream = this.add(target, controller, etag);
      },
      cancel: () => {
        if (stream) this.remove(stream);
      },
    });
    return { ok: true, body };
  }

  /** Follows the change bus: subscribe it after the snapshot store, so snapshots are dropped before they are read again. */
  onChange(change: TChange): void {
    // A user's own changes reach them through their next request, not through the environment's stream.
    if (change.type === 'keys' || change.type === 'profiles') return;
    for (const [environmentId, group] of this.environments) {
      if (change.type === 'all' || group.workspaceId === change.workspaceId) this.refresh(environmentId, group, change.type === 'all');
    }
  }

  /** Ends every open stream (a listener closing): clients reconnect, to another node if this one is gone, after `retry`. */
  closeAll(): void {
    for (const group of this.environments.values()) {
      for (const stream of group.streams) this.end(stream);
    }
  }

  /** Ends every stream and refuses new ones (the app stopping). */
  stop(): void {
    this.closed = true;
    this.closeAll();
  }

  private add(target: { environmentId: string; workspaceId: string }, controller: ReadableStreamDefaultController<Uint8Array>, etag: string): TStream {
    let group = this.environments.get(target.environmentId);
    const created = !group;
    if (!group) {
      group = { workspaceId: target.workspaceId, streams: new Set(), etag, refreshing: false, again: false, force: false };
      this.environments.set(target.environmentId, group);
    }
    const stream: TStream = {
      environmentId: target.environmentId,
      controller,
      heartbeat: setInterval(() => this.write(stream, ': heartbeat\n\n'), HEARTBEAT_MS),
      expiry: setTimeout(() => this.end(stream), MAX_STREAM_AGE_MS.min + Math.random() * (MAX_STREAM_AGE_MS.max - MAX_STREAM_AGE_MS.min)),
    };
    // Timers must not keep a process alive that is otherwise done (tests, scripts).
    stream.heartbeat.unref();
    stream.expiry.unref();
    group.streams.add(stream);
    this.total++;
    // A change may have come between reading the snapshot and registering (or the snapshot read was
    // an older build): nobody watched this environment then, so check once; otherwise the others
    // were told already and this stream learns it now.
    if (created) this.refresh(target.environmentId, group, false);
    else if (group.etag !== null && group.etag !== etag) this.write(stream, changeMessage(group.etag));
    return stream;
  }

  private remove(stream: TStream): void {
    const group = this.environments.get(stream.environmentId);
    if (!group?.streams.delete(stream)) return;
    clearInterval(stream.heartbeat);
    clearTimeout(stream.expiry);
    this.total--;
    if (group.streams.size === 0 && !group.refreshing) this.environments.delete(stream.environmentId);
  }

  private end(stream: TStream): void {
    this.remove(stream);
    try {
      stream.controller.close();
    } catch {
      // Already closed or errored by the client going away.
    }
  }

  private write(stream: TStream, text: string): void {
    const { controller } = stream;
    // desiredSize goes negative as chunks queue up unread: a client that stopped reading.
    if (controller.desiredSize !== null && controller.desiredSize < -MAX_QUEUED_CHUNKS) return this.end(stream);
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      this.remove(stream);
    }
  }

  private refresh(environmentId: string, group: TEnvironmentStreams, force: boolean): void {
    group.force ||= force;
    if (group.refreshing) {
      group.again = true;
      return;
    }
    group.refreshing = true;
    group.again = false;
    const announceAll = group.force;
    group.force = false;
    this.snapshots.get(environmentId).then(
      ({ etag }) => {
        const previous = group.etag;
        group.etag = etag;
        if (announceAll || (previous !== null && previous !== etag)) {
          const message = changeMessage(etag);
          for (const stream of group.streams) this.write(stream, message);
        }
      },
      (error: unknown) => {
        // Something changed but the new ETag is unknown: try again shortly and announce it then, whatever it is.
        log.warn('Could not rebuild a snapshot for its event streams; retrying in 1 s', { environmentId, error: error instanceof Error ? error.message : String(error) });
        setTimeout(() => {
          if (this.environments.get(environmentId) === group && !this.closed) this.refresh(environmentId, group, true);
        }, 1_000).unref();
      },
    ).finally(() => {
      group.refreshing = false;
      if (group.streams.size === 0) {
        if (this.environments.get(environmentId) === group) this.environments.delete(environmentId);
        return;
      }
      if (group.again) this.refresh(environmentId, group, false);
    });
  }
}
