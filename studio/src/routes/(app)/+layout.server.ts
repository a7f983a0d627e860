import { redirect } from '@sveltejs/kit';

export const load = ({ locals }) => {
  if (!locals.member) redirect(303, '/login');
  return { member: locals.member };
};
