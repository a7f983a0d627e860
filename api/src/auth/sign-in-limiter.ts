const WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 10;
const MAX_TRACKED = 10_000;

/**
 * Counts failed sign-ins per email in memory: past the limit, sign-in is refused for the rest of the
 * window whatever the password, so guessing is slow. Per process; enough for one node, and bounded.
 */
export class SignInLimiter {
  private failures = new Map<string, { count: number; windowStart: number }>();

  isLimited(email: string, now = Date.now()): boolean {
    const entry = this.failures.get(email);
    return !!entry && now - entry.windowStart < WINDOW_MS && entry.count >= MAX_FAILURES;
  }

  recordFailure(email: string, now = Date.now()): void {
    const entry = this.failures.get(email);
    if (!entry || now - entry.windowStart >= WINDOW_MS) {
      if (this.failures.size >= MAX_TRACKED) this.failures.clear();
      this.failures.set(email, { count: 1, windowStart: now });
    } else {
      entry.count++;
    }
  }

  reset(email: string): void {
    this.failures.delete(email);
  }
}
