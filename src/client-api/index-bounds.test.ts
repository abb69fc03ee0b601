/**
 * Under row-level security PostgreSQL takes a condition as an index bound only when it is
 * leakproof; `coalesce(started_at, created_at)` is not, so a bound on it was a filter over every
 * row of the client (a page 90,000 calls deep, or the analytics edges of a quarter-hour, read all
 * 100,000 calls of the bench's client). The lists and the analytics edges therefore bound the stored
 * `sort_at` columns (migration 0020). These plans are taken as the tenant role, the way the app runs
 * them; sequential scans are off so that a handful of rows plans like a large table.
 */
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../test/helpers/test-db.ts';
import { uniqueId } from '../../test/helpers/test-app.ts';
import { callAggregatesQuery } from '../analytics/analytics.repo.ts';
import { sqlRows, type Database } from '../platform/db/database.ts';
import { calls, customers } from '../platform/db/schema.ts';
import { createTenancy, type Tenancy } from '../platform/db/tenancy.ts';
import { callPageQuery, customerPageQuery, listCallRows } from './client-api.repo.ts';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function indexScans(node: PlanNode): PlanNode[] {
  return [...(node['Index Name'] ? [node] : []), ...(node.Plans ?? []).flatMap(indexScans)];
}

describe('list and analytics bounds are index bounds under row-level security', () => {
  let database: Database;
  let tenancy: Tenancy;
  const a = uniqueId('bounds-a');
  const b = uniqueId('bounds-b');
  const base = Date.parse('2026-11-20T12:00:00Z');

  beforeAll(async () => {
    database = await openTestDatabase();
    tenancy = createTenancy(database);
    for (const clientId of [a, b]) {
      await tenancy.withTenant(clientId, async (tx) => {
        await tx.insert(calls).values(
          Array.from({ length: 40 }, (_, i) => ({
            clientId,
            callId: `call_${String(i).padStart(2, '0')}`,
            // Every fifth call never started: its place is when it was first heard of.
            startedAt: i % 5 === 0 ? null : new Date(base - i * 3_600_000),
            createdAt: new Date(base - i * 3_600_000 + 1_000),
          })),
        );
        await tx.insert(customers).values(
          Array.from({ length: 10 }, (_, i) => ({
            clientId,
            phone: `+1415555010${i}`,
            lastCallAt: i % 3 === 0 ? null : new Date(base - i * 60_000),
          })),
        );
      });
    }
  });
  afterAll(() => database.close());

  /** The plan's index scans, planned as client `a` with sequential scans off. */
  const plan = (query: SQL) =>
    tenancy.withTenant(a, async (tx) => {
      await tx.execute(sql`select set_config('enable_seqscan', 'off', true)`);
      const [row] = await sqlRows<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(tx, sql`explain (format json) ${query}`);
      const json = row?.['QUERY PLAN'];
      const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as [{ Plan: PlanNode }];
      return indexScans(parsed[0].Plan);
    });

  it('a deep calls page bounds (client_id, sort_at, call_id) by the cursor', async () => {
    const after = { at: '2026-11-19T12:00:00.000000Z', id: 'call_50' };
    // (The outcome's EXISTS probes into appointments, messages and function calls scan theirs.)
    const scans = (await plan(callPageQuery(a, {}, after, 11))).filter((s) => s['Index Name']?.startsWith('calls_'));
    expect(scans.map((s) => s['Index Name'])).toEqual(['calls_client_sort_at_idx']);
    expect(scans[0]?.['Index Cond']).toMatch(/sort_at/);
    // And the page is the one that follows the cursor, in order, of client a only.
    const page = await tenancy.withTenant(a, (tx) => listCallRows(tx, a, {}, after, 5));
    const all = await tenancy.withTenant(a, (tx) => listCallRows(tx, a, {}, undefined, 100));
    // (call_24 started at the cursor's instant and sorts before its id: the page's first.)
    const cut = all.findIndex((r) => r.sort_at < after.at || (r.sort_at === after.at && r.call_id < after.id));
    expect(cut).toBeGreaterThan(0);
    expect(page).toHaveLength(5);
    expect(page.map((r) => r.call_id)).toEqual(all.slice(cut, cut + 5).map((r) => r.call_id));
  });

  it('a calls period (from/to) bounds sort_at', async () => {
    const scans = await plan(callPageQuery(a, { from: new Date(base - 10 * 3_600_000), to: new Date(base) }, undefined, 11));
    expect(scans.some((s) => /sort_at/.test(s['Index Cond'] ?? ''))).toBe(true);
  });

  it('the analytics edges (the part-quarter-hours at either end) read calls by a sort_at range', async () => {
    const period = { from: new Date('2026-11-01T00:07:00Z'), to: new Date('2026-11-20T10:05:00Z'), timezone: 'Europe/London', bucket: 'day' as const };
    const scans = (await plan(callAggregatesQuery(a, period))).filter((s) => s['Index Name']?.startsWith('calls_'));
    expect(scans.length).toBe(2);
    for (const scan of scans) expect(scan['Index Cond']).toMatch(/sort_at/);
  });

  it('a deep customers page bounds (client_id, sort_at, id) by the cursor', async () => {
    const after = { at: '2026-11-20T11:55:00.000000Z', id: '00000000-0000-0000-0000-000000000000' };
    const scans = await plan(customerPageQuery(a, undefined, after, 11));
    expect(scans.map((s) => s['Index Name'])).toEqual(['customers_client_sort_at_idx']);
    expect(scans[0]?.['Index Cond']).toMatch(/sort_at/);
  });
});
