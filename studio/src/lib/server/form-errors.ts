import { fail } from '@sveltejs/kit';
import { setError, type SuperValidated } from 'sveltekit-superforms';
import type { TApiError } from './api';

/** Puts the API's validation issues next to the fields they name; anything else becomes the form's message. */
export function apiErrorToForm(form: SuperValidated<Record<string, unknown>>, result: TApiError) {
  const fields = new Set(Object.keys(form.data));
  for (const issue of result.issues ?? []) {
    const field = issue.path.split('.')[0];
    if (fields.has(field)) setError(form, field as never, issue.message);
  }
  form.message = result.issues?.some((i) => fields.has(i.path.split('.')[0])) ? 'Please correct the highlighted fields.' : result.message;
  form.valid = false;
  return fail(400, { form });
}
