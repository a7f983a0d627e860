import { fail } from '@sveltejs/kit';
import { BUILT_IN_PLACEMENTS } from '@doorstep/schema';
import { message, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { ZPlacementForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const PLACEMENTS = graphql(`
  query Placements {
    placements { key name maxShows windowHours cooloffHours }
    environments { key name }
    flows { key name priority placement audienceCondition segment { name } releases { environment { key } version { number } } }
  }
`);
const SAVE_PLACEMENT = graphql(`
  mutation SavePlacement($input: PlacementInput!) { savePlacement(input: $input) { __typename ... on Placement { key } ...ApiError } }
`, [ApiError]);

/** Who gets what, by placement: each placement's flows in the order the runtime tries them, and its caps. */
export const load = (async ({ locals }) => {
  const { placements, environments, flows } = await api(locals.token).request(PLACEMENTS);
  const keys = [...new Set([...BUILT_IN_PLACEMENTS.filter((key) => key === 'main' || flows.some((f) => f.placement === key)), ...flows.map((f) => f.placement), ...placements.map((p) => p.key)])];
  const sections = await Promise.all(keys.map(async (key) => {
    const caps = placements.find((p) => p.key === key);
    const form = await superValidate({
      key, name: caps?.name ?? key, maxShows: caps?.maxShows ?? undefined, windowHours: caps?.windowHours ?? 24, cooloffHours: caps?.cooloffHours ?? undefined,
    }, zod4(ZPlacementForm), { id: `placement-${key}`, errors: false });
    return { key, caps: caps ?? null, form, flows: flows.filter((f) => f.placement === key) };
  }));
  return { sections, environments };
}) satisfies PageServerLoad;

export const actions = {
  save: async ({ request, locals }) => {
    const data = await request.formData();
    const form = await superValidate(data, zod4(ZPlacementForm), { id: `placement-${String(data.get('key'))}` });
    if (!form.valid) return fail(400, { form });
    const { maxShows, cooloffHours, ...rest } = form.data;
    const { savePlacement } = await api(locals.token).request(SAVE_PLACEMENT, { input: { ...rest, maxShows: maxShows ?? null, cooloffHours: cooloffHours ?? null } });
    if (isApiError(savePlacement)) {
      return apiErrorToForm(form, savePlacement, { name: 'name', maxShows: 'maxShows', windowHours: 'windowHours', cooloffHours: 'cooloffHours' });
    }
    return message(form, 'Saved. The caps apply in every environment right away.');
  },
} satisfies Actions;
