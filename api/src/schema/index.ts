import { builder } from '../builder.ts';
import './root.ts';
import './scalars.ts';
import './errors.ts';
import './environments.ts';
import './flows.ts';
import './versions.ts';
import './segments.ts';
import './placements.ts';
import './api-keys.ts';
import './members.ts';
import './experiments.ts';
import './analytics.ts';
import './audit.ts';
import './runtime.ts';
import './events.ts';
import './guests.ts';

export const schema = builder.toSchema({ sortSchema: true });
