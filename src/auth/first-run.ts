/**
 * First run (the Grafana/Gitea pattern): a fresh install (no users) opens a setup page where the
 * platform admin is created. Whoever reaches the server first must not become its admin, so the
 * page also asks for a one-time setup token that only the server's log shows.
 *
 * The token is minted at startup while there are no users, held by this process as a SHA-256
 * digest, compared in constant time, and dropped when it is used or as soon as any user exists
 * (one made by `xlnc users create` too). A restart without users mints a new one. Creating the
 * admin runs under a transaction-scoped advisory lock that re-counts the users, so two setups racing
 * (two tabs, two instances) make one admin, never two.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { writeAudit } from '../admin/audit.service.ts';
import { AppError } from '../platform/errors.ts';
import { countUsers, insertUser, type UserRow } from './auth.repo.ts';
import { hashPassword } from './password.ts';

export const SETUP_TOKEN_PREFIX = 'xst_';
/** Any advisory lock key works; this one names first-run setup. */
const SETUP_LOCK_KEY = 7_154_001;

export interface FirstRun {
  /** True while no user exists: the setup page is open. */
  needed(): Promise<boolean>;
  /** At startup: a fresh token when there are no users (to be logged), else undefined. */
  open(): Promise<string | undefined>;
  /** Creates the platform admin when `token` is this process's setup token and still no user exists. */
  createFirstAdmin(input: { token: string; email: string; password: string; requestId?: string }): Promise<UserRow>;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function createFirstRun(tenancy: Tenancy): FirstRun {
  let tokenDigest: Buffer | null = null;

  const matches = (candidate: string): boolean => {
    // Digests are equal-length, so timingSafeEqual never throws and the time says nothing.
    return tokenDigest !== null && timingSafeEqual(digest(candidate), tokenDigest);
  };

  const needed = async () => {
    const users = await tenancy.withPlatform((tx) => countUsers(tx));
    if (users > 0) tokenDigest = null;
    return users === 0;
  };

  return {
    needed,

    async open() {
      const users = await tenancy.withPlatform((tx) => countUsers(tx));
      if (users > 0) {
        tokenDigest = null;
        return undefined;
      }
      const token = `${SETUP_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
      tokenDigest = digest(token);
      return token;
    },

    async createFirstAdmin({ token, email, password, requestId }) {
      if (!(await needed())) throw new AppError('conflict', 'This installation is already set up; sign in instead');
      if (!matches(token)) {
        throw new AppError('unauthorized', 'That is not the setup token: copy it from the server log (the line that says "No users yet")');
      }
      const passwordHash = await hashPassword(password);
      const row = await tenancy.withPlatform(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${SETUP_LOCK_KEY})`);
        if ((await countUsers(tx)) > 0) return undefined;
        const created = await insertUser(tx, { email: email.trim().toLowerCase(), passwordHash, role: 'platform_admin', clientId: null });
        if (created !== undefined) {
          await writeAudit(tx, {
            actorUserId: created.id,
            action: 'user.create',
            targetId: created.id,
            diff: { via: 'first-run setup', changes: [{ path: '$.role', from: null, to: 'platform_admin' }] },
            ...(requestId !== undefined ? { requestId } : {}),
          });
        }
        return created;
      });
      // Used or beaten to it: either way this token is spent.
      tokenDigest = null;
      if (row === undefined) throw new AppError('conflict', 'This installation is already set up; sign in instead');
      return row;
    },
  };
}
