import { z } from 'zod';
import { clientIdPattern } from '../clients/client.schema.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.ts';

export const ROLES = ['platform_admin', 'client_admin', 'client_viewer'] as const;
export type Role = (typeof ROLES)[number];
export type ClientRole = Exclude<Role, 'platform_admin'>;

/** Lower-cased and trimmed: emails are unique case-insensitively. */
export const emailSchema = z
  .email()
  .max(254)
  .transform((value) => value.trim().toLowerCase());

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH);

export const clientIdSchema = z.string().regex(clientIdPattern, 'must be a client id');

export const loginBody = z.object({
  email: z.string().min(1).max(254),
  // Length is not checked at login: any policy change must not reveal which rule a guess broke.
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
});

export const refreshBody = z.object({ refresh_token: z.string().min(1).max(200) });

/** A user as the API shows it: never the password hash. */
export const userView = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  client_id: z.string().nullable(),
  disabled: z.boolean(),
  last_login_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type UserView = z.infer<typeof userView>;

export const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  refresh_token: z.string(),
  user: userView,
});
