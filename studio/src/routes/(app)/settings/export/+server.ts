import { exportDownload } from '$lib/server/workspace-bundle';
import type { RequestHandler } from './$types';

/** The workspace's bundle, downloaded with the member's session; the API refuses members below admin. */
export const GET: RequestHandler = ({ locals }) => exportDownload(locals.token);
