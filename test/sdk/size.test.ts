import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/process.ts';

type TSize = { minified: number; gzipped: number };
/**
 * Userflow.js and Usertour.js advertise 16 KB; the client and the element stayed under it until
 * guests (guest ids, identify at sign-in, deferStart for consent) took about 1.1 KB, counted twice
 * here (a page loading both entries pays 12.4 KB). Dropping any of them would push that logic into
 * every app, so the budget grew by 1.5 KB instead: 17.5 KB, counting the client twice.
 */
const BUDGET = 17.5 * 1024;

describe('@doorstep/client size', () => {
  const report = JSON.parse(execFileSync(process.execPath, ['scripts/sdk-size.mjs', '--json'], { cwd: REPO_ROOT, encoding: 'utf8' })) as Record<'client' | 'element' | 'together', TSize> & { inputs: string[] };

  it('should keep the client and the element within 17.5 KB gzipped, counting the client twice', () => {
    expect(report.client.gzipped + report.element.gzipped).toBeLessThanOrEqual(BUDGET);
    expect(report.together.gzipped).toBeLessThanOrEqual(BUDGET);
  });

  it('should bundle nothing but its own sources: no runtime dependency', () => {
    expect(report.inputs.length).toBeGreaterThan(0);
    expect(report.inputs.filter((file) => !file.startsWith('sdk/src/'))).toEqual([]);
  });
});
