import { fail } from '@sveltejs/kit';
import { graphql, type ResultOf } from '$lib/graphql';
import { api, ApiError, isApiError } from './api';

/** The API takes request bodies of up to 1 MB; the bundle goes in one, with its query around it. */
export const MAX_BUNDLE_UPLOAD_BYTES = 1024 * 1024 - 16 * 1024;

const EXPORT_WORKSPACE = graphql(`query ExportWorkspace { workspace { slug } exportWorkspace }`);
const IMPORT_WORKSPACE = graphql(`
  mutation ImportWorkspace($bundle: JSON!, $dryRun: Boolean!) {
    importWorkspace(bundle: $bundle, dryRun: $dryRun) {
      __typename
      ... on ImportPlan { dryRun counts { entity create update unchanged } changes { entity action key version environmentKey fields } }
      ...ApiError
    }
  }
`, [ApiError]);

export type TImportPlan = Extract<ResultOf<typeof IMPORT_WORKSPACE>['importWorkspace'], { __typename: 'ImportPlan' }>;

/** The bundle as a download: what `pnpm doorstep export` writes. */
export async function exportDownload(token: string | undefined): Promise<Response> {
  const { workspace, exportWorkspace } = await api(token).request(EXPORT_WORKSPACE);
  const day = new Date().toISOString().slice(0, 10);
  return new Response(`${JSON.stringify(exportWorkspace, null, 2)}\n`, {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="doorstep-${workspace.slug}-${day}.json"`,
      'cache-control': 'no-store',
    },
  });
}

/**
 * The import form's action: previews (dry run) or applies the uploaded bundle. Refusals come back
 * as `fail(400)` with a message and, from the API's validation, the paths of the problems.
 */
export async function importUpload(request: Request, token: string | undefined, dryRun: boolean) {
  const file = (await request.formData()).get('bundle');
  const refuse = (importError: string, issues: Array<{ path: string; message: string }> = []) => fail(400, { importError, issues });
  if (!(file instanceof File) || file.size === 0) return refuse('Choose a bundle file, as the export writes it.');
  if (file.size > MAX_BUNDLE_UPLOAD_BYTES) return refuse('The file is larger than the API takes (1 MB); import it with pnpm doorstep import instead.');
  let bundle: unknown;
  try {
    bundle = JSON.parse(await file.text());
  } catch {
    return refuse('The file is not JSON: choose a bundle the export wrote.');
  }
  const { importWorkspace: result } = await api(token).request(IMPORT_WORKSPACE, { bundle, dryRun });
  if (isApiError(result)) {
    return refuse(result.__typename === 'ValidationError' ? 'The bundle cannot be imported:' : result.message, result.__typename === 'ValidationError' ? result.issues : []);
  }
  return { importPlan: result };
}
