import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../api/src/env.ts';

describe('environment', () => {
  it('should run as production when NODE_ENV is unset, so GraphiQL and introspection are asked for, not left on', () => {
    expect(loadEnv({}).NODE_ENV).toBe('production');
  });
});
