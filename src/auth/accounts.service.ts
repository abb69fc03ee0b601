/**
 * Accounts beyond login: invitations, password reset by email, changing one's password, signing
 * out everywhere, and a client admin managing their client's users. Every change is audited in
 * its own transaction; whatever ends a user's sessions also voids the access tokens they hold
 * (SessionRevocations) once it has committed.
 *
 * Who may do what: a platform admin, anything; a client admin, invite into and manage the users
 * of their own client (never a platform admin, never their own account); a client viewer, none of
 * it. Another client's users read as not found.
 */
import { writeAudit } from '../admin/audit.service.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import type { Logger } from '../platform/logging.ts';
import { platformKey, type KeyValueCache } from '../platform/redis.ts';
import type { AuthUser } from './access-token.ts';
import { passwordFingerprint, signInvite, signReset, verifyInvite, verifyReset, INVITE_TTL_SECONDS } from './account-links.ts';
import type { AccountMailer } from './account-mail.ts';
import { findUserByEmail, findUserById, revokeAllForUser, updateUser, type UserRow } from './auth.repo.ts';
import type { ClientRole, Role, UserView } from './auth.schemas.ts';
import { dummyPasswordHash, verifyPassword } from './password.ts';
import type { SessionRevocations } from './session-revocations.ts';
import { changeUser, createUser, findUsers } from './users.service.ts';

/** How a client presents itself in account emails (its brand, or its name). */
export interface MailBrand {
  name: string;
  color?: string | undefined;
  logoUrl?: string | undefined;
}

export interface AccountsServiceOptions {
  tenancy: Tenancy;
  jwtSecret: string;
  mailer: AccountMailer;
  /** Where links in emails point: the dashboard's public address (a client's own host when it has one). */
  linkBaseFor: (clientId: string | null) => string;
  sessions: SessionRevocations;
  /** Remembers recent reset emails (Redis when configured, so every instance agrees). */
  cache: KeyValueCache;
  logger: Logger;
  clientExists: (clientId: string) => boolean;
  brandOf: (clientId: string | null) => MailBrand;
}

export interface InviteView {
  email: string;
  role: Role;
  client_id: string | null;
  expires_at: string;
}

/** One reset email per address in this time: asking again sooner sends nothing (the answer is the same). */
const RESET_EMAIL_INTERVAL_MS = 60_000;

const invalidLink = (what: string, reason: 'invalid' | 'expired') =>
  new AppError('unauthorized', reason === 'expired' ? `This ${what} link has expired; ask for a new one` : `This ${what} link is not valid; ask for a new one`);

/** Client users may act on their own client only; a platform admin on any. 404 otherwise (existence never leaks). */
function checkClientScope(actor: AuthUser, clientId: string): void {
  if (actor.role !== 'platform_admin' && actor.clientId !== clientId) throw new AppError('not_found', 'Not found');
}

function checkManager(actor: AuthUser): void {
  if (actor.role === 'client_viewer') throw new AppError('forbidden', 'Only an admin of this client manages its users');
}

export function createAccountsService(options: AccountsServiceOptions) {
  const { tenancy, jwtSecret, mailer, sessions, logger } = options;

  const endSessions = async (userId: string) => {
    await tenancy.withPlatform(async (tx) => {
      await updateUser(tx, userId, { endSessions: true });
      await revokeAllForUser(tx, userId);
    });
    await sessions.revoke(userId);
  };

  return {
    /** Emails a signed link that creates the account when opened (7 days). */
    async invite(actor: AuthUser, requestId: string, input: { clientId: string; email: string; role: ClientRole }): Promise<InviteView> {
      checkClientScope(actor, input.clientId);
      checkManager(actor);
      if (!options.clientExists(input.clientId)) throw new AppError('not_found', 'Not found');
      const existing = await tenancy.withPlatform((tx) => findUserByEmail(tx, input.email));
      if (existing !== undefined) throw new AppError('conflict', 'A user with this email already exists');
      const token = signInvite(jwtSecret, { email: input.email, role: input.role, clientId: input.clientId, invitedBy: actor.id });
      const brand = options.brandOf(input.clientId);
      await mailer.send({
        to: input.email,
        subject: `You're invited to ${brand.name}'s receptionist dashboard`,
        lines: [
          `You have been invited to ${brand.name}'s dashboard as ${input.role === 'client_admin' ? 'an admin' : 'a viewer'}: calls, bookings and messages from the AI receptionist.`,
          'Open the link to choose your password. It works once, for 7 days.',
        ],
        link: { label: 'Accept the invitation', url: `${options.linkBaseFor(input.clientId)}/accept-invite#token=${token}` },
        senderName: brand.name,
        accentColor: brand.color,
        logoUrl: brand.logoUrl,
      });
      await tenancy.withPlatform((tx) =>
        writeAudit(tx, {
          actorUserId: actor.id,
          action: 'user.invite',
          clientId: input.clientId,
          diff: { changes: [{ path: '$.email', to: input.email }, { path: '$.role', to: input.role }] },
          requestId,
        }),
      );
      return { email: input.email, role: input.role, client_id: input.clientId, expires_at: new Date(Date.now() + INVITE_TTL_SECONDS * 1000).toISOString() };
    },

    /** What an invitation link says (for the accept page), or why it cannot be used. */
    describeInvite(token: string): InviteView {
      const check = verifyInvite(jwtSecret, token);
      if (!check.ok) throw invalidLink('invitation', check.reason);
      return { email: check.claims.email, role: check.claims.role, client_id: check.claims.clientId, expires_at: check.expiresAt.toISOString() };
    },

    /** Creates the invited user with their password; a second use finds the email taken. */
    async acceptInvite(requestId: string, token: string, password: string): Promise<UserRow> {
      const check = verifyInvite(jwtSecret, token);
      if (!check.ok) throw invalidLink('invitation', check.reason);
      const { email, role, clientId, invitedBy } = check.claims;
      const user = await tenancy.withPlatform(async (tx) => {
        if ((await findUserByEmail(tx, email)) !== undefined) throw new AppError('conflict', 'This invitation was already accepted; sign in instead');
        const created = await createUser(tx, { email, password, role, clientId }, options.clientExists);
        await writeAudit(tx, {
          actorUserId: invitedBy,
          action: 'user.create',
          clientId: created.client_id,
          targetId: created.id,
          diff: { via: 'invitation', changes: [{ path: '$.email', to: created.email }, { path: '$.role', to: created.role }] },
          requestId,
        });
        return findUserById(tx, created.id);
      });
      if (user === undefined) throw new Error('invited user vanished');
      return user;
    },

    /**
     * Emails a reset link (1 hour) when `email` is an active account. The answer is the same
     * either way and does not wait for the email, so it says nothing about which addresses exist.
     */
    async requestReset(email: string): Promise<void> {
      const recent = platformKey('password-reset', email);
      if ((await options.cache.get(recent)) !== undefined) return;
      await options.cache.set(recent, '1', RESET_EMAIL_INTERVAL_MS);
      const user = await tenancy.withPlatform((tx) => findUserByEmail(tx, email));
      if (user === undefined || user.disabled) return;
      const token = signReset(jwtSecret, { userId: user.id, fingerprint: passwordFingerprint(user.passwordHash) });
      const brand = options.brandOf(user.clientId);
      mailer
        .send({
          to: user.email,
          subject: `Reset your ${brand.name} dashboard password`,
          lines: ['Someone asked to reset the password of this account. If it was not you, ignore this email: nothing changes.', 'The link works once, for 1 hour.'],
          link: { label: 'Choose a new password', url: `${options.linkBaseFor(user.clientId)}/reset-password#token=${token}` },
          senderName: brand.name,
          accentColor: brand.color,
          logoUrl: brand.logoUrl,
        })
        .catch((error: unknown) => logger.error({ err: error, user_id: user.id }, 'password reset email could not be sent'));
    },

    /** Sets the new password from a reset link; ends every session of the account. */
    async confirmReset(requestId: string, token: string, password: string): Promise<void> {
      const check = verifyReset(jwtSecret, token);
      if (!check.ok) throw invalidLink('password reset', check.reason);
      const ended = await tenancy.withPlatform(async (tx) => {
        const user = await findUserById(tx, check.claims.userId);
        // Used already (the hash changed), or the account went away: the same answer.
        if (user === undefined || user.disabled || passwordFingerprint(user.passwordHash) !== check.claims.fingerprint) {
          throw invalidLink('password reset', 'invalid');
        }
        const { after } = await changeUser(tx, user.id, { password }, options.clientExists);
        await writeAudit(tx, {
          actorUserId: user.id,
          action: 'user.update',
          clientId: after.client_id,
          targetId: user.id,
          diff: { via: 'password reset', changes: [{ path: '$.password', from: '••••', to: '••••' }] },
          requestId,
        });
        return user.id;
      });
      await sessions.revoke(ended);
    },

    /** Needs the current password; ends every session, this one included (the page signs in again). */
    async changePassword(actor: AuthUser, requestId: string, current: string, next: string): Promise<void> {
      const user = await tenancy.withPlatform((tx) => findUserById(tx, actor.id));
      const matches = await verifyPassword(current, user?.passwordHash ?? (await dummyPasswordHash()));
      if (user === undefined || user.disabled || !matches) throw new AppError('invalid_credentials', 'The current password is not right');
      await tenancy.withPlatform(async (tx) => {
        const { after } = await changeUser(tx, user.id, { password: next }, options.clientExists);
        await writeAudit(tx, {
          actorUserId: user.id,
          action: 'user.update',
          clientId: after.client_id,
          targetId: user.id,
          diff: { via: 'password change', changes: [{ path: '$.password', from: '••••', to: '••••' }] },
          requestId,
        });
      });
      await sessions.revoke(user.id);
    },

    /** Every refresh token revoked and every access token voided, on every device. */
    signOutEverywhere(actor: AuthUser): Promise<void> {
      return endSessions(actor.id);
    },

    async listClientUsers(actor: AuthUser, clientId: string): Promise<UserView[]> {
      checkClientScope(actor, clientId);
      checkManager(actor);
      return tenancy.withPlatform((tx) => findUsers(tx, { clientId }));
    },

    /** A client admin disables, re-enables or changes the role of one of their client's users. */
    async updateClientUser(
      actor: AuthUser,
      requestId: string,
      clientId: string,
      userId: string,
      change: { disabled?: boolean | undefined; role?: ClientRole | undefined },
    ): Promise<UserView> {
      checkClientScope(actor, clientId);
      checkManager(actor);
      if (userId === actor.id) throw new AppError('conflict', 'You cannot change your own account here; ask another admin');
      const { user, sessionsEnded } = await tenancy.withPlatform(async (tx) => {
        const target = await findUserById(tx, userId);
        if (target === undefined || target.clientId !== clientId) throw new AppError('not_found', 'Not found');
        const { before, after, sessionsEnded } = await changeUser(tx, userId, { disabled: change.disabled, role: change.role }, options.clientExists);
        const changes = (['role', 'disabled'] as const).filter((key) => before[key] !== after[key]).map((key) => ({ path: `$.${key}`, from: before[key], to: after[key] }));
        await writeAudit(tx, { actorUserId: actor.id, action: 'user.update', clientId, targetId: userId, diff: { changes }, requestId });
        return { user: after, sessionsEnded };
      });
      if (sessionsEnded) await sessions.revoke(user.id);
      return user;
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
