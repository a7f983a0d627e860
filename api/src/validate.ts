import { formatIssuePath } from '@doorstep/schema';
import { z } from 'zod';
import { ValidationError } from './errors.ts';

/** A standard-schema issue, as the validation plugin reports it. */
type TSchemaIssue = { readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined };

/**
 * The validation plugin's failures in the API's one shape. Issue paths name the argument they come
 * from (`content.steps.2.title`), except the conventional `input` object, whose fields are named
 * directly (`key`, `audience.segmentKey`), as the studio places them next to its form fields.
 */
export function validationFailed(issues: readonly TSchemaIssue[]): ValidationError {
  return new ValidationError(issues.map((issue) => {
    const path = (issue.path ?? []).map((segment) => (typeof segment === 'object' ? segment.key : segment));
    return { path: formatIssuePath(path[0] === 'input' ? path.slice(1) : path), message: issue.message };
  }));
}

/**
 * GraphQL sends explicit nulls for optional input fields the caller left empty; the content schemas
 * mean "absent" by optional. Applied to an input object's own fields only: nulls inside JSON values
 * (conditions, answers) are data.
 */
export function graphqlInput<S extends z.ZodType>(schema: S) {
  return z.preprocess(
    (value) => (value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined))
      : value),
    schema,
  );
}
