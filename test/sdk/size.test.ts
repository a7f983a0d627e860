import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/process.ts';

type TSize = { minified: number; gzipped: number };
/** Userflow.js and Usertour.js advertise 16 KB; the client and the element together stay under it. */
const BUDGET = 16 * 1024;

describe('@doorstep/client size', () => {
  const report = JSON.parse(execFileSync(process.execPath, ['scripts/sdk-size.mjs', '--json'], { cwd: REPO_ROOT, encoding: 'utf8' })) as Record<'client' | 'element' | 'together', TSize> & { inputs: string[] };

  it('should keep the client and the element within 16 KB gzipped, counting the client twice', () => {
    expect(report.client.gzipped + report.element.gzipped).toBeLessThanOrEqual(BUDGET);
    expect(report.together.gzipped).toBeLessThanOrEqual(BUDGET);
  });

  it('should bundle nothing but its own sources: no runtime dependency', () => {
    expect(report.inputs.length).toBeGreaterThan(0);
    expect(report.inputs.filter((file) => !file.startsWith('sdk/src/'))).toEqual([]);
  });
});
