export type TBatchWriterOptions = { maxBatch?: number; intervalMs?: number; label: string };

/**
 * Collects writes off the request path and flushes them together: when the batch is full or after
 * a short interval. Keys deduplicate within a batch; flushes run one at a time, in order.
 */
export class BatchWriter<T> {
  private pending = new Map<string, T>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  private readonly intervalMs: number;

  constructor(private readonly write: (items: T[]) => Promise<unknown>, private readonly options: TBatchWriterOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.intervalMs = options.intervalMs ?? 100;
  }

  add(key: string, item: T): void {
    if (!this.pending.has(key)) this.pending.set(key, item);
    if (this.pending.size >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes what is pending and resolves once every earlier flush has finished too. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending.values()];
    this.pending.clear();
    if (batch.length > 0) {
      this.chain = this.chain
        .then(() => this.write(batch))
        .then(() => undefined, (error) => { console.error(`Could not write ${this.options.label}`, error); });
    }
    return this.chain;
  }
}
