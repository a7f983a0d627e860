/** Exponential backoff with full jitter: retries spread out instead of arriving together. */
export function backoffDelayMs(attempt: number, { baseMs = 500, maxMs = 30_000 } = {}): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
