import { fail } from '@sveltejs/kit';
import { setError, type FormPathLeavesWithErrors, type SuperValidated } from 'sveltekit-superforms';
import type { TApiError } from './api';

/**
 * Puts the API's validation issues next to the fields they name, and what failed overall in the
 * form's own errors (superforms' `_errors`). `fields` maps an issue path (`audience.condition`, or
 * its first part, `email`) to the field showing it: the API's input and the form are not always
 * shaped alike.
 */
export function apiErrorToForm<T extends Record<string, unknown>, M, In extends Record<string, unknown>>(
  form: SuperValidated<T, M, In>,
  result: TApiError,
  fields: Readonly<Record<string, FormPathLeavesWithErrors<T>>>,
) {
  const issues = result.__typename === 'ValidationError' ? result.issues : [];
  const elsewhere = issues.filter((issue) => {
    const field = fields[issue.path] ?? fields[issue.path.split('.')[0]];
    if (field) setError(form, field, issue.message);
    return !field;
  });
  // Issues no field shows are spelled out, path and all, rather than lost behind a generic message.
  if (elsewhere.length) setError(form, elsewhere.map((i) => `${i.path}: ${i.message}`).join('; '));
  else setError(form, issues.length ? 'Please correct the highlighted fields.' : result.message);
  return fail(400, { form });
}
