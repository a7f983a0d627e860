import { ZEmail, ZFlowCreateInput, ZMemberName, ZPassword, ZSignInInput } from '@doorstep/schema';
import { z } from 'zod';

/** Form schemas: the shared content schemas, shaped for flat HTML forms. */
export const ZSignInForm = ZSignInInput;
export const ZSetupForm = z.object({ name: ZMemberName, email: ZEmail, password: ZPassword });
export const ZAcceptForm = z.object({ name: ZMemberName, password: ZPassword });
export const ZCreateFlowForm = ZFlowCreateInput.pick({ key: true, name: true });
export const ZCreateSegmentForm = z.object({ name: z.string().trim().min(1, 'Give the segment a name').max(120), key: ZCreateFlowForm.shape.key });
