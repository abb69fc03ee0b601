import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/helpers/test-db.ts';
import { uniqueId } from '../../../test/helpers/test-app.ts';
import { sqlRowCount, sqlRows, type Database } from './database.ts';
import { calls, customers } from './schema.ts';
import { createTenancy, type Tenancy } from './tenancy.ts';

describe('row-level security', () => {
  let database: Database;
  let tenancy: Tenancy;
  const a = uniqueId('rls-a');
  const b = uniqueId('rls-b');

  beforeAll(async () => {
    database = await openTestDatabase();
    tenancy = createTenancy(database);
    await tenancy.withTenant(a, (tx) => tx.insert(calls).values([{ clientId: a, callId: 'call_a1' }, { clientId: a, callId: 'call_a2' }]));
    await tenancy.withTenant(b, (tx) => tx.insert(calls).values({ clientId: b, callId: 'call_b1' }));
  });
  afterAll(() => database.close());

  it(`a query with no WHERE client_id sees only the current client's rows (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, async () => {
    const seenByA = await tenancy.withTenant(a, (tx) => tx.select({ callId: calls.callId, clientId: calls.clientId }).from(calls));
    expect(seenByA.map((r) => r.callId).sort()).toEqual(['call_a1', 'call_a2']);
    expect(new Set(seenByA.map((r) => r.clientId))).toEqual(new Set([a]));

    const seenByB = await tenancy.withTenant(b, (tx) => sqlRows<{ call_id: string }>(tx, sql`select call_id from calls`));
    expect(seenByB.map((r) => r.call_id)).toEqual(['call_b1']);
  });

  it("cannot write a row for another client, even by naming it", async () => {
    await expect(
      tenancy.withTenant(a, (tx) => tx.insert(customers).values({ clientId: b, phone: '+14155550100' })),
    ).rejects.toThrow();
    const updated = await tenancy.withTenant(a, (tx) =>
      sqlRowCount(tx, sql`update calls set status = 'hijacked' where call_id = 'call_b1'`),
    );
    expect(updated).toBe(0);
  });

  it('runs tenant work as the non-owner role with the setting scoped to the transaction', async () => {
    const inside = await tenancy.withTenant(a, (tx) =>
      sqlRows<{ role: string; client: string }>(tx, sql`select current_user as role, current_setting('app.client_id', true) as client`),
    );
    expect(inside[0]).toEqual({ role: 'xlnc_app', client: a });
    const after = await sqlRows<{ client: string | null }>(database.db, sql`select current_setting('app.client_id', true) as client`);
    expect(after[0]?.client ?? '').toBe('');
  });

  it('batchAsTenant: row-level security applies, and the settings end with the transaction', async () => {
    const [seen, who] = await tenancy.batchAsTenant(a, [
      { text: 'select call_id from calls order by call_id', params: [] },
      { text: "select current_user as role, current_setting('app.client_id', true) as client", params: [] },
    ]);
    expect(seen?.rows).toEqual([{ call_id: 'call_a1' }, { call_id: 'call_a2' }]);
    expect(who?.rows).toEqual([{ role: 'xlnc_app', client: a }]);
    await expect(
      tenancy.batchAsTenant(a, [{ text: 'insert into customers (client_id, phone) values ($1, $2)', params: [b, '+14155550101'] }]),
    ).rejects.toThrow();
    // The same pooled connections serve the next queries with neither setting left behind.
    for (let i = 0; i < 12; i++) {
      const [row] = await sqlRows<{ role: string; client: string | null }>(
        database.db,
        sql`select current_user as role, current_setting('app.client_id', true) as client`,
      );
      expect(row?.role).not.toBe('xlnc_app');
      expect(row?.client ?? '').toBe('');
    }
  });

  it('batchAsTenant is all or nothing: a failing statement rolls back the ones before it', async () => {
    const phone = '+14155550177';
    const failing = tenancy.batchAsTenant(a, [
      { text: 'insert into customers (client_id, phone) values ($1, $2)', params: [a, phone] },
      { text: "update calls set status = 'x' where call_id = 'call_a1'", params: [] },
      { text: 'select 1 / 0', params: [] },
      { text: 'insert into customers (client_id, phone) values ($1, $2)', params: [a, '+14155550178'] },
    ]);
    await expect(failing).rejects.toThrow(/division by zero/);
    const left = await tenancy.withTenant(a, (tx) =>
      sqlRows<{ n: number }>(tx, sql`select count(*)::int as n from customers where phone in ('+14155550177', '+14155550178')`),
    );
    expect(left[0]?.n).toBe(0);
    const status = await tenancy.withTenant(a, (tx) => sqlRows<{ status: string | null }>(tx, sql`select status from calls where call_id = 'call_a1'`));
    expect(status[0]?.status).not.toBe('x');
    // The connection is healthy afterwards.
    const [ok] = await tenancy.batchAsTenant(a, [{ text: 'select count(*)::int as n from calls', params: [] }]);
    expect(ok?.rows).toEqual([{ n: 2 }]);
  });

  it('withPlatform sees every client', async () => {
    const all = await tenancy.withPlatform((tx) => tx.select({ clientId: calls.clientId }).from(calls));
    const ids = new Set(all.map((r) => r.clientId));
    expect(ids.has(a) && ids.has(b)).toBe(true);
  });

  it('a tenant transaction with no client id set sees nothing', async () => {
    const rows = await database.db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('role', 'xlnc_app', true)`);
      return tx.select().from(calls);
    });
    expect(rows).toEqual([]);
  });

  it('every table with a client_id column has row-level security enabled, forced and a tenant policy', async () => {
    const tables = await sqlRows<{ table: string; enabled: boolean; forced: boolean; policies: number }>(
      database.db,
      sql`select c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
                 (select count(*)::int from pg_policy p where p.polrelid = c.oid and p.polname = 'tenant_isolation') as policies
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind = 'r'
             and exists (select 1 from information_schema.columns col
                          where col.table_schema = 'public' and col.table_name = c.relname and col.column_name = 'client_id')`,
    );
    expect(tables.length).toBeGreaterThanOrEqual(8);
    for (const t of tables) expect(t, t.table).toMatchObject({ enabled: true, forced: true, policies: 1 });
  });
});
