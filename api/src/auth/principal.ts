import type { TRole } from '@doorstep/schema';

/** Management access, through a secret API key or a studio member's session. */
export type TManagementPrincipal = {
  kind: 'secret' | 'member';
  /** The key's or the member's id. */
  credentialId: string;
  workspaceId: string;
  role: TRole;
  actor: string;
  /** The session token's hash, for signing out and rotating. */
  sessionHash?: string;
  /** When the session's token was issued, so the studio knows when to rotate it. */
  sessionCreatedAt?: Date;
};
export type TPublicPrincipal = {
  kind: 'public';
  credentialId: string;
  workspaceId: string;
  environmentId: string;
  actor: string;
  /** Browser origins the key may be used from; empty allows any. */
  allowedOrigins: string[];
  /** The environment's identity-verification secret; null when verification is off. */
  identitySecret: string | null;
  /** The environment accepts only the client's trusted documents from public keys. */
  trustedDocumentsOnly: boolean;
};
export type TPrincipal = TManagementPrincipal | TPublicPrincipal;
