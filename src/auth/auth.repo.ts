/**
 * Users and refresh tokens. Both are platform tables: login looks a user up by email across all
 * clients, so every function here takes a transaction opened with `withPlatform`.
 */
import { and, asc, count, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { refreshTokens, users } from '../platform/db/schema.ts';
import type { Role } from './auth.schemas.ts';

export type UserRow = typeof users.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

export async function findUserByEmail(tx: Tx, email: string): Promise<UserRow | undefined> {
  const [row] = await tx.select().from(users).where(eq(users.email, email)).limit(1);
  return row;
}

export async function findUserById(tx: Tx, id: string): Promise<UserRow | undefined> {
  const [row] = await tx.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

export async function countUsers(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

export async function listUsers(tx: Tx, filter: { clientId?: string | undefined; role?: Role | undefined }): Promise<UserRow[]> {
  const conditions = [
    filter.clientId !== undefined ? eq(users.clientId, filter.clientId) : undefined,
    filter.role !== undefined ? eq(users.role, filter.role) : undefined,
  ];
  return tx
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(asc(users.email))
    .limit(1000);
}

export async function insertUser(
  tx: Tx,
  values: { email: string; passwordHash: string; role: Role; clientId: string | null },
): Promise<UserRow | undefined> {
  const [row] = await tx.insert(users).values(values).onConflictDoNothing({ target: users.email }).returning();
  return row;
}

export async function updateUser(
  tx: Tx,
  id: string,
  values: Partial<Pick<UserRow, 'passwordHash' | 'role' | 'clientId' | 'disabled' | 'lastLoginAt'>> & { endSessions?: boolean },
): Promise<UserRow | undefined> {
  const { endSessions, ...columns } = values;
  const [row] = await tx
    .update(users)
    .set({ ...columns, ...(endSessions ? { sessionsRevokedAt: sql`now()` } : {}), updatedAt: sql`now()` })
    .where(eq(users.id, id))
    .returning();
  return row;
}

export async function insertRefreshToken(
  tx: Tx,
  values: { userId: string; familyId: string; tokenHash: string; expiresAt: Date },
): Promise<RefreshTokenRow> {
  const [row] = await tx.insert(refreshTokens).values(values).returning();
  if (row === undefined) throw new Error('refresh token insert returned no row');
  return row;
}

/** Locks the row: two concurrent refreshes of one token serialize, and the second sees it rotated. */
export async function findRefreshTokenForUpdate(tx: Tx, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  const [row] = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).limit(1).for('update');
  return row;
}

export async function markRotated(tx: Tx, id: string, replacedBy: string): Promise<void> {
  await tx.update(refreshTokens).set({ rotatedAt: sql`now()`, replacedBy }).where(eq(refreshTokens.id, id));
}

export async function revokeFamily(tx: Tx, familyId: string): Promise<void> {
  await tx
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

export async function revokeAllForUser(tx: Tx, userId: string): Promise<void> {
  await tx
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}

/** When the user's access tokens were last voided (null: never), and whether the user exists. */
export async function findSessionsRevokedAt(tx: Tx, userId: string): Promise<{ exists: boolean; revokedAt: Date | null }> {
  const [row] = await tx.select({ revokedAt: users.sessionsRevokedAt }).from(users).where(eq(users.id, userId));
  return { exists: row !== undefined, revokedAt: row?.revokedAt ?? null };
}
