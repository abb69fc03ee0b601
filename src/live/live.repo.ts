/**
 * Reads behind the live view, inside the caller's tenant transaction: which of a client's calls
 * are in progress now, how far its outbox has got, and the current state of the calls a stream
 * follows (status and transcript, which the webhook ingest folds into the call row as Retell's
 * call_started, transcript_updated and call_ended arrive).
 */
import { sql } from 'drizzle-orm';
import { sqlRows, type Tx } from '../platform/db/database.ts';

export interface LiveCallRow {
  call_id: string;
  agent_id: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  status: string | null;
  lifecycle_rank: number;
  started_at: Date | string | null;
  transcript_object: unknown;
  /** Microsecond-precise change stamp, as text: the next poll asks for rows changed after it. */
  changed_at: string;
}

/** A call Retell started and has not ended. One that never ended is no longer live after this. */
export const LIVE_CALL_MAX_HOURS = 4;

const columns = sql`c.call_id, c.agent_id, c.direction, c.from_number, c.to_number, c.status, c.lifecycle_rank, c.started_at,
  c.transcript_object, to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as changed_at`;

/** The client's calls in progress: started (rank 1: call_started or live data) and not ended. */
export async function liveCallRows(tx: Tx, clientId: string): Promise<LiveCallRow[]> {
  return sqlRows<LiveCallRow>(
    tx,
    sql`select ${columns} from calls c
        where c.client_id = ${clientId} and c.lifecycle_rank = 1 and coalesce(c.status, 'ongoing') in ('registered', 'ongoing')
          and c.sort_at > now() - make_interval(hours => ${LIVE_CALL_MAX_HOURS})
        order by c.sort_at desc, c.call_id desc
        limit 100`,
  );
}

/** The client's calls in progress, and the given calls whatever their state: one read per poll. */
export async function liveOrFollowedRows(tx: Tx, clientId: string, followed: readonly string[]): Promise<LiveCallRow[]> {
  const orFollowed = followed.length > 0 ? sql` or c.call_id in (${sql.join(followed.map((id) => sql`${id}`), sql`, `)})` : sql``;
  return sqlRows<LiveCallRow>(
    tx,
    sql`select ${columns} from calls c
        where c.client_id = ${clientId}
          and ((c.lifecycle_rank = 1 and coalesce(c.status, 'ongoing') in ('registered', 'ongoing')
                and c.sort_at > now() - make_interval(hours => ${LIVE_CALL_MAX_HOURS}))${orFollowed})
        limit 200`,
  );
}

/** The seq of the client's latest domain event (0 before its first). */
export async function latestEventSeq(tx: Tx, clientId: string): Promise<number> {
  const [row] = await sqlRows<{ seq: string | number | null }>(
    tx,
    sql`select max(seq) as seq from domain_events where client_id = ${clientId}`,
  );
  return Number(row?.seq ?? 0);
}
