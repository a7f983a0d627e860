import type { TRole } from '@doorstep/schema';
import type { TTestApi } from './api.ts';

/** Creates a secret key of `role` (or a public key of an environment) through the API itself. */
export async function createSecretKey(api: TTestApi, adminKey: string, role: TRole): Promise<string> {
  const res = await api.gql(adminKey, `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on ApiKeyCreated { secret } ... on Error { code message } } }`, {
    input: { name: `${role} key`, kind: 'secret', role },
  });
  const secret = res.data?.createApiKey?.secret;
  if (!secret) throw new Error(`Could not create a ${role} key: ${JSON.stringify(res)}`);
  return secret;
}
