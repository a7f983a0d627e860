import type { z } from 'zod';

export type TValidationIssue = { path: string; message: string };

/** Dotted paths such as `steps.2.title`: what the studio uses to place an error next to its field. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export function toValidationIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): TValidationIssue[] {
  return error.issues.map((issue) => ({ path: formatIssuePath([...prefix, ...issue.path]), message: issue.message }));
}
