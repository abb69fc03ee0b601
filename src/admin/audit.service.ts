/**
 * The audit log: every admin change, written in the same transaction as the change itself.
 * Diffs are built from masked views, so no secret value is ever stored here.
 */
import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { auditLog } from '../platform/db/schema.ts';
import { findActorEmail, insertAudit } from './audit.repo.ts';

export const AUDIT_ACTIONS = [
  'client.create',
  'client.update',
  'client.disable',
  'user.create',
  'user.invite',
  'user.update',
  'keys.rotate',
  'webhook_subscription.create',
  'webhook_subscription.update',
  'webhook_subscription.rotate_secret',
  'webhook_subscription.disable',
  'webhook_subscription.enable',
  'webhook_subscription.delete',
  'webhook_delivery.replay',
  'appointment.cancel',
  'appointment.reschedule',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** null for the command line. */
  actorUserId: string | null;
  action: AuditAction;
  clientId?: string | null;
  targetId?: string | null;
  diff: unknown;
  requestId?: string | null;
  /**
   * The actor's email, when the caller looked it up (resolveAuditActor): a tenant transaction
   * cannot see a platform admin's user row, so the insert's own lookup would record only the id.
   */
  actorEmail?: string | undefined;
}

/** Who acts in a request: the signed-in user (null: the command line) and the request id. */
export interface AuditActor {
  userId: string | null;
  requestId: string | null;
}

/**
 * The actor fields of an audit entry, the email looked up on the platform side first, for entries
 * written inside a tenant transaction (in the same transaction as the change they record).
 */
export async function resolveAuditActor(tenancy: Tenancy, actor: AuditActor): Promise<Pick<AuditEntry, 'actorUserId' | 'actorEmail' | 'requestId'>> {
  const { userId } = actor;
  const email = userId === null ? undefined : await tenancy.withPlatform((tx) => findActorEmail(tx, userId));
  return { actorUserId: userId, actorEmail: email, requestId: actor.requestId };
}

export async function writeAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await insertAudit(tx, entry);
}

export interface AuditFilter {
  clientId?: string | undefined;
  /** A user id, or an actor email / `cli`. */
  actor?: string | undefined;
  action?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  /** The last id of the previous page. */
  cursor?: number | undefined;
}

export interface AuditView {
  id: number;
  actor_user_id: string | null;
  actor: string;
  action: string;
  client_id: string | null;
  target_id: string | null;
  diff: unknown;
  request_id: string | null;
  created_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Newest first, keyset-paginated on id. */
export async function queryAudit(tenancy: Tenancy, filter: AuditFilter): Promise<{ items: AuditView[]; next_cursor: string | null }> {
  const conditions: (SQL | undefined)[] = [
    filter.clientId !== undefined ? eq(auditLog.clientId, filter.clientId) : undefined,
    filter.actor !== undefined
      ? UUID.test(filter.actor)
        ? eq(auditLog.actorUserId, filter.actor.toLowerCase())
        : eq(auditLog.actor, filter.actor.toLowerCase())
      : undefined,
    filter.action !== undefined ? eq(auditLog.action, filter.action) : undefined,
    filter.from !== undefined ? gte(auditLog.createdAt, filter.from) : undefined,
    filter.to !== undefined ? lte(auditLog.createdAt, filter.to) : undefined,
    filter.cursor !== undefined ? lt(auditLog.id, filter.cursor) : undefined,
  ];
  const rows = await tenancy.withPlatform((tx) =>
    tx
      .select()
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(desc(auditLog.id))
      .limit(filter.limit + 1),
  );
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((row) => ({
      id: row.id,
      actor_user_id: row.actorUserId,
      actor: row.actor,
      action: row.action,
      client_id: row.clientId,
      target_id: row.targetId,
      diff: row.diff,
      request_id: row.requestId,
      created_at: row.createdAt.toISOString(),
    })),
    next_cursor: rows.length > filter.limit && last !== undefined ? String(last.id) : null,
  };
}
