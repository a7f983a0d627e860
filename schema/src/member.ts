import { z } from 'zod';
import { ZRole } from './api-key.ts';
import { storableString } from './text.ts';

export const MIN_PASSWORD_LENGTH = 10;

export const ZEmail = z.string().trim().toLowerCase().max(254).email('Enter an email address such as ana@example.com');
export const ZPassword = z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters`).max(200);
export const ZMemberName = storableString().trim().min(1, 'Enter your name').max(100);

export const ZSignInInput = z.object({ email: ZEmail, password: z.string().min(1, 'Enter your password').max(200) });
export const ZSetupInput = z.object({ email: ZEmail, name: ZMemberName, password: ZPassword });
export const ZInviteInput = z.object({ email: ZEmail, role: ZRole });
export const ZAcceptInviteInput = z.object({ token: z.string().min(10).max(200), name: ZMemberName, password: ZPassword });
export const ZChangePasswordInput = z.object({ currentPassword: z.string().min(1, 'Enter your current password').max(200), newPassword: ZPassword });
export const ZResetPasswordInput = z.object({ token: z.string().min(10).max(200), password: ZPassword });

export type TSignInInput = z.output<typeof ZSignInInput>;
export type TSetupInput = z.output<typeof ZSetupInput>;
