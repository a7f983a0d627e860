import { env as privateEnv } from '$env/dynamic/private';
import { z } from 'zod';

const ZStudioEnv = z.object({
  DOORSTEP_API_URL: z.string().url().default('http://127.0.0.1:4000/graphql'),
});

/** Read once, at start-up; nothing else reads the environment. */
export const studioEnv = ZStudioEnv.parse(Object.fromEntries(Object.entries(privateEnv).filter(([, v]) => v !== '')));
