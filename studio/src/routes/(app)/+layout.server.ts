import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

export const load = (({ locals }) => {
  if (!locals.member) redirect(303, '/login');
  return { member: locals.member };
}) satisfies LayoutServerLoad;
