import { env as privateEnv } from '$env/dynamic/private';
import { z } from 'zod';

const ZStudioEnv = z.object({
  DOORSTEP_API_URL: z.string().url().default('http://127.0.0.1:4000/graphql'),
  /** The demo app `pnpm start` serves: the preview links to it ("open as this user"). */
  DOORSTEP_DEMO_PORT: z.coerce.number().int().min(1).max(65535).default(3001),
});

/** Read once, at start-up; nothing else reads the environment. */
export const studioEnv = ZStudioEnv.parse(Object.fromEntries(Object.entries(privateEnv).filter(([, v]) => v !== '')));
