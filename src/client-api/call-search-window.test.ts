/**
 * The text search's two steps (listCallRows): a page sought among the newest SEARCH_WINDOW_CALLS
 * calls, and, when that window does not fill it, the calls that calls_search_matches (migration
 * 0021, through the GIN index) names for the transaction's client. Whichever step answers, the
 * pages are the plain filter's pages, in order, and never another client's calls.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../test/helpers/test-db.ts';
import { uniqueId } from '../../test/helpers/test-app.ts';
import { sqlRows, type Database } from '../platform/db/database.ts';
import { createTenancy, type Tenancy } from '../platform/db/tenancy.ts';
import { listCallRows, SEARCH_WINDOW_CALLS, type CallFilter } from './client-api.repo.ts';
import type { Cursor } from './cursor.ts';

describe('text search beyond the window of newest calls', () => {
  let database: Database;
  let tenancy: Tenancy;
  const a = uniqueId('window-a');
  const b = uniqueId('window-b');
  const CALLS = SEARCH_WINDOW_CALLS + 300;

  beforeAll(async () => {
    database = await openTestDatabase();
    tenancy = createTenancy(database);
    // Call g started g minutes before the base: call 1 is the newest. "okonkwo" is said in calls 700,
    // 1400 and 2100 (the last older than the window), "parking" in every 97th call, "boiler" in
    // every third; client b's calls say all of them.
    for (const clientId of [a, b]) {
      await tenancy.withTenant(clientId, (tx) =>
        tx.execute(sql`insert into calls (client_id, call_id, direction, started_at, summary, transcript)
          select ${clientId}, 'call_' || lpad(g::text, 5, '0'), case when g % 2 = 0 then 'outbound' else 'inbound' end,
                 timestamptz '2026-11-20T12:00:00Z' - g * interval '1 minute',
                 'Caller asked about appointment ' || g,
                 concat_ws(' ', 'Agent: hello.', case when g % 700 = 0 then 'User: my name is Okonkwo.' end,
                           case when g % 97 = 0 then 'User: is there parking?' end, case when g % 3 = 0 then 'User: my boiler broke.' end,
                           case when ${clientId} = ${b} then 'User: Okonkwo, parking, boiler.' end)
            from generate_series(1, ${CALLS}) g`),
      );
    }
  });
  afterAll(() => database.close());

  /** Every page of a search, following the cursor as the API does. */
  async function allPages(clientId: string, filter: CallFilter, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let after: Cursor | undefined;
    for (;;) {
      const rows = await tenancy.withTenant(clientId, (tx) => listCallRows(tx, clientId, filter, after, limit));
      ids.push(...rows.map((r) => r.call_id));
      const last = rows.at(-1);
      if (rows.length < limit || !last) return ids;
      after = { at: last.sort_at, id: last.call_id };
    }
  }

  /** The same search as one plain filter over all of the client's calls (the table owner's view). */
  const reference = async (clientId: string, word: string, direction?: string) =>
    (
      await sqlRows<{ call_id: string }>(
        database.db,
        sql`select call_id from calls where client_id = ${clientId} and search_document @@ websearch_to_tsquery('english', ${word})
              and (${direction ?? null}::text is null or direction = ${direction ?? null})
            order by sort_at desc, call_id desc`,
      )
    ).map((r) => r.call_id);

  it('finds a rare word in a call older than the window, and only the client’s own calls', async () => {
    expect(await allPages(a, { q: 'okonkwo' }, 50)).toEqual(['call_00700', 'call_01400', 'call_02100']);
    expect(await allPages(b, { q: 'okonkwo' }, 50)).toHaveLength(CALLS);
  });

  it('pages through a word of middling frequency exactly as the plain filter orders it, across the window', async () => {
    const expected = await reference(a, 'parking');
    expect(expected.length).toBe(Math.floor(CALLS / 97));
    expect(await allPages(a, { q: 'parking' }, 5)).toEqual(expected);
  });

  it('a common word fills its pages from the window; with another filter too', async () => {
    const firstPage = await tenancy.withTenant(a, (tx) => listCallRows(tx, a, { q: 'boiler' }, undefined, 50));
    expect(firstPage.map((r) => r.call_id)).toEqual((await reference(a, 'boiler')).slice(0, 50));
    expect(await allPages(a, { q: 'boiler', direction: 'outbound' }, 200)).toEqual(await reference(a, 'boiler', 'outbound'));
  });

  it('calls_search_matches answers for the client of the transaction only, and nothing without one', async () => {
    const matches = (clientId: string | null) =>
      clientId
        ? tenancy.withTenant(clientId, (tx) => sqlRows<{ call_id: string }>(tx, sql`select call_id from calls_search_matches(to_tsquery('english', 'okonkwo'))`))
        : tenancy.withPlatform((tx) => sqlRows<{ call_id: string }>(tx, sql`select call_id from calls_search_matches(to_tsquery('english', 'okonkwo'))`));
    expect((await matches(a)).map((r) => r.call_id).sort()).toEqual(['call_00700', 'call_01400', 'call_02100']);
    expect(await matches(b)).toHaveLength(CALLS);
    expect(await matches(null)).toEqual([]);
  });
});
