/**
 * What the health detectors read about one client (inside its tenant transaction): reads only,
 * every query bounded by the client's leading index.
 */
import { and, asc, count, eq, gte, isNotNull, lt, max, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { calls, integrationStatus, messages, webhookSubscriptions } from '../platform/db/schema.ts';

/** When the client's latest call started, as Retell reported it (undefined: none yet). */
export async function lastCallAt(tx: Tx, clientId: string): Promise<Date | undefined> {
  const [row] = await tx.select({ at: max(calls.startedAt) }).from(calls).where(eq(calls.clientId, clientId));
  return row?.at ?? undefined;
}

/** When the client's calls started since `since`, oldest first (at most `limit`). */
export async function callTimesSince(tx: Tx, clientId: string, since: Date, limit: number): Promise<Date[]> {
  const rows = await tx
    .select({ at: calls.startedAt })
    .from(calls)
    .where(and(eq(calls.clientId, clientId), gte(calls.startedAt, since)))
    .orderBy(calls.startedAt)
    .limit(limit);
  return rows.flatMap((row) => (row.at ? [row.at] : []));
}

/** Messages created in [from, to) and how many of them failed or were suppressed. */
export async function messageOutcomes(tx: Tx, clientId: string, from: Date, to: Date): Promise<{ total: number; bad: number }> {
  const [row] = await tx
    .select({
      total: count(),
      bad: sql<number>`count(*) filter (where ${messages.status} in ('failed', 'suppressed'))::int`,
    })
    .from(messages)
    .where(and(eq(messages.clientId, clientId), gte(messages.createdAt, from), lt(messages.createdAt, to)));
  return { total: Number(row?.total ?? 0), bad: Number(row?.bad ?? 0) };
}

/** The client's capabilities whose provider refused its credentials (integration-health.ts). */
export async function brokenIntegrations(tx: Tx, clientId: string): Promise<{ capability: string; provider: string; detail: string | null }[]> {
  return tx
    .select({ capability: integrationStatus.capability, provider: integrationStatus.provider, detail: integrationStatus.detail })
    .from(integrationStatus)
    .where(and(eq(integrationStatus.clientId, clientId), eq(integrationStatus.status, 'integration_error')));
}

/**
 * The client's outbound webhook subscriptions that were switched off because every delivery failed
 * for 24 hours: disabled with `failing_since` kept (a user's disable clears it).
 */
export async function failureDisabledWebhooks(tx: Tx, clientId: string): Promise<{ id: string; url: string; failingSince: Date; disabledAt: Date | null }[]> {
  const rows = await tx
    .select({ id: webhookSubscriptions.id, url: webhookSubscriptions.url, failingSince: webhookSubscriptions.failingSince, disabledAt: webhookSubscriptions.disabledAt })
    .from(webhookSubscriptions)
    .where(and(eq(webhookSubscriptions.clientId, clientId), eq(webhookSubscriptions.status, 'disabled'), isNotNull(webhookSubscriptions.failingSince)))
    .orderBy(asc(webhookSubscriptions.createdAt));
  return rows.flatMap((row) => (row.failingSince ? [{ ...row, failingSince: row.failingSince }] : []));
}
