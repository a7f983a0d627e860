import type { TPrincipal } from './auth/principal.ts';
import type { TServices } from './services.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

export type TContext = {
  prisma: PrismaClient;
  principal: TPrincipal | null;
  services: TServices;
  /** The caller's address (through trusted proxies), for per-address limits; 'local' for in-process calls. */
  clientAddress: string;
};
