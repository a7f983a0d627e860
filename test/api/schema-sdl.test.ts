import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSdl, SDL_PATH } from '../../api/src/print-sdl.ts';

describe('GraphQL SDL', () => {
  it('should match the committed api/schema.graphql (run `pnpm sdl` after changing the API)', () => {
    expect(printSdl()).toBe(readFileSync(SDL_PATH, 'utf8'));
  });
});
