import { toValidationIssues } from '@doorstep/schema';
import type { z } from 'zod';
import { ValidationError } from './errors.ts';

/** GraphQL passes explicit nulls for optional input fields; zod's optional fields want them absent. */
export function withoutNulls<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as T;
}

/** Parses with a zod schema or fails with every issue and its path. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, pathPrefix: readonly PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(toValidationIssues(result.error, pathPrefix));
  return result.data;
}
