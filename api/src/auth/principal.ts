import type { TRole } from '@doorstep/schema';

export type TSecretPrincipal = { kind: 'secret'; keyId: string; workspaceId: string; role: TRole; actor: string };
export type TPublicPrincipal = { kind: 'public'; keyId: string; workspaceId: string; environmentId: string; actor: string };
export type TPrincipal = TSecretPrincipal | TPublicPrincipal;
