/**
 * Creating and changing users (admin API and `xlnc users …`). Each function works inside the
 * caller's platform transaction, so the caller can write its audit row in the same commit.
 */
import type { Tx } from '../platform/db/database.ts';
import { AppError } from '../platform/errors.ts';
import { findUserById, insertUser, listUsers, revokeAllForUser, updateUser, type UserRow } from './auth.repo.ts';
import type { Role, UserView } from './auth.schemas.ts';
import { hashPassword } from './password.ts';

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    role: row.role as Role,
    client_id: row.clientId,
    disabled: row.disabled,
    last_login_at: row.lastLoginAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Is `clientId` a configured client? (the registry in the server, the catalogue in the CLI) */
export type ClientExists = (clientId: string) => boolean | Promise<boolean>;

async function checkScope(role: Role, clientId: string | null, clientExists: ClientExists): Promise<void> {
  if (role === 'platform_admin') {
    if (clientId !== null) throw new AppError('invalid_payload', 'client_id: a platform_admin belongs to no client');
    return;
  }
  if (clientId === null) throw new AppError('invalid_payload', `client_id: required for role ${role}`);
  if (!(await clientExists(clientId))) throw new AppError('invalid_payload', `client_id: unknown client ${clientId}`);
}

export interface NewUser {
  email: string;
  password: string;
  role: Role;
  clientId: string | null;
}

export async function createUser(tx: Tx, input: NewUser, clientExists: ClientExists): Promise<UserView> {
  await checkScope(input.role, input.clientId, clientExists);
  const row = await insertUser(tx, {
    email: input.email.trim().toLowerCase(),
    passwordHash: await hashPassword(input.password),
    role: input.role,
    clientId: input.clientId,
  });
  if (row === undefined) throw new AppError('conflict', 'A user with this email already exists');
  return toUserView(row);
}

export interface UserChange {
  role?: Role | undefined;
  /** Give `null` with role platform_admin. */
  clientId?: string | null | undefined;
  disabled?: boolean | undefined;
  password?: string | undefined;
}

/**
 * Applies `change`; any change to who the user is or what they may do (role, client, disabled,
 * password) revokes all their refresh tokens and reports `sessionsEnded`, so the caller voids
 * their access tokens too once this commits (SessionRevocations).
 */
export async function changeUser(
  tx: Tx,
  id: string,
  change: UserChange,
  clientExists: ClientExists,
): Promise<{ before: UserView; after: UserView; sessionsEnded: boolean }> {
  const existing = await findUserById(tx, id);
  if (existing === undefined) throw new AppError('not_found', `No user ${id}`);
  const role = change.role ?? (existing.role as Role);
  let clientId = change.clientId !== undefined ? change.clientId : existing.clientId;
  // Promoting to platform admin drops the client; the opposite needs one named.
  if (change.role === 'platform_admin' && change.clientId === undefined) clientId = null;
  await checkScope(role, clientId, clientExists);
  const sessionsEnd =
    role !== existing.role || clientId !== existing.clientId || (change.disabled === true && !existing.disabled) || change.password !== undefined;
  const updated = await updateUser(tx, id, {
    role,
    clientId,
    ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
    ...(change.password !== undefined ? { passwordHash: await hashPassword(change.password) } : {}),
    endSessions: sessionsEnd,
  });
  if (updated === undefined) throw new AppError('not_found', `No user ${id}`);
  if (sessionsEnd) await revokeAllForUser(tx, id);
  return { before: toUserView(existing), after: toUserView(updated), sessionsEnded: sessionsEnd };
}

export async function findUsers(tx: Tx, filter: { clientId?: string | undefined; role?: Role | undefined }): Promise<UserView[]> {
  return (await listUsers(tx, filter)).map(toUserView);
}

export async function getUser(tx: Tx, id: string): Promise<UserView> {
  const row = await findUserById(tx, id);
  if (row === undefined) throw new AppError('not_found', `No user ${id}`);
  return toUserView(row);
}
