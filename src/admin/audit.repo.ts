/** audit_log: written in the same transaction as the change it records. */
import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { auditLog, users } from '../platform/db/schema.ts';
import type { AuditEntry } from './audit.service.ts';

export async function insertAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  const actorId = entry.actorUserId;
  await tx.insert(auditLog).values({
    actorUserId: actorId,
    // The actor's email as it was at the time (emails may change later).
    actor: actorId === null ? 'cli' : (entry.actorEmail ?? sql`coalesce((select ${users.email} from ${users} where ${users.id} = ${actorId}), ${actorId})`),
    action: entry.action,
    clientId: entry.clientId ?? null,
    targetId: entry.targetId ?? null,
    diff: entry.diff,
    requestId: entry.requestId ?? null,
  });
}


/** A user's email (platform transaction), for the audit entry's actor. */
export async function findActorEmail(tx: Tx, userId: string): Promise<string | undefined> {
  const [row] = await tx.select({ email: users.email }).from(users).where(eq(users.id, userId));
  return row?.email;
}
