/**
 * Live now: the client's calls in progress, with the conversation as Retell sends it. The stream
 * (GET …/live, server-sent events) opens with a 60-second ticket, since EventSource cannot send a
 * bearer token; when the server closes it or refuses a reconnect, a new ticket reopens it after
 * the last event seen.
 */
import { getRouteApi } from '@tanstack/react-router';
import { useEffect, useReducer, useState } from 'react';
import { api, buildUrl } from '../../lib/api.ts';
import { formatDateTime, formatPhone } from '../../lib/format.ts';
import { Badge } from '../../ui/badge.tsx';
import { Empty, ErrorState, Loading, PageHeader } from '../../ui/states.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { useQuery } from '@tanstack/react-query';
import { customerNumber, foldLive, type LiveCall, type LiveEvent, type LiveTicket } from './live-calls.ts';

const route = getRouteApi('/app/c/$clientId/live');
const EVENT_TYPES = ['snapshot', 'call.started', 'call.updated', 'call.ended', 'call.completed'] as const;

type Connection = { state: 'connecting' } | { state: 'open' } | { state: 'retrying'; error: unknown };

function useLiveCalls(clientId: string): { calls: LiveCall[]; connection: Connection; loaded: boolean } {
  const [calls, dispatch] = useReducer(foldLive, []);
  const [connection, setConnection] = useState<Connection>({ state: 'connecting' });
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    let source: EventSource | undefined;
    let lastEventId: string | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const connect = async () => {
      try {
        const { ticket }: LiveTicket = await api.post('/api/clients/{clientId}/live/ticket', {}, { path: { clientId } });
        if (stopped) return;
        const url = buildUrl('/api/clients/{clientId}/live', { clientId }, { ticket, ...(lastEventId ? { last_event_id: lastEventId } : {}) });
        source = new EventSource(url);
        source.onopen = () => setConnection({ state: 'open' });
        for (const type of EVENT_TYPES) {
          source.addEventListener(type, (message: MessageEvent<string>) => {
            if (message.lastEventId) lastEventId = message.lastEventId;
            const data: unknown = JSON.parse(message.data);
            dispatch({ type, data } as LiveEvent);
            if (type === 'snapshot') setLoaded(true);
          });
        }
        source.onerror = () => {
          // CONNECTING: the browser retries by itself. CLOSED: it gave up (an expired ticket): reopen.
          if (source?.readyState === EventSource.CLOSED) {
            source.close();
            setConnection({ state: 'retrying', error: new Error('The live connection dropped') });
            retryTimer = setTimeout(() => void connect(), 2_000);
          } else {
            setConnection({ state: 'connecting' });
          }
        };
      } catch (error) {
        if (stopped) return;
        setConnection({ state: 'retrying', error });
        retryTimer = setTimeout(() => void connect(), 5_000);
      }
    };
    void connect();
    return () => {
      stopped = true;
      source?.close();
      if (retryTimer) clearTimeout(retryTimer);
    };
  }, [clientId]);

  return { calls, connection, loaded };
}

function LiveCallCard({ call, timezone }: { call: LiveCall; timezone: string }) {
  const caller = formatPhone(customerNumber(call));
  return (
    <article className="card live-call" aria-label={`Call with ${caller}`}>
      <header className="live-call-header">
        <h2 className="live-call-title">{caller}</h2>
        <Badge tone="info">{call.direction === 'outbound' ? 'Outbound' : 'Inbound'}</Badge>
        <span className="muted small">Started {formatDateTime(call.started_at, timezone)}</span>
      </header>
      {call.transcript.length === 0 ? (
        <p className="muted">Waiting for the first words…</p>
      ) : (
        <ol className="conversation" aria-label={`Live transcript with ${caller}`}>
          {call.transcript.map((turn, index) => (
            <li key={index} className={`turn turn-${turn.role === 'agent' ? 'agent' : 'caller'}`}>
              <span className="turn-speaker">{turn.role === 'agent' ? 'Receptionist' : 'Caller'}</span>
              <p className="turn-text">{turn.content}</p>
            </li>
          ))}
        </ol>
      )}
    </article>
  );
}

export function LivePage() {
  const { clientId } = route.useParams();
  const settings = useQuery(settingsQueries.detail(clientId));
  const timezone = timezoneOf(settings.data);
  const { calls, connection, loaded } = useLiveCalls(clientId);

  return (
    <>
      <PageHeader
        title="Live now"
        description="Calls your receptionist is on right now, with the conversation as it happens."
        actions={
          <span role="status" aria-live="polite">
            {connection.state === 'open' ? <Badge tone="good">Connected</Badge> : <Badge tone="warn">{connection.state === 'retrying' ? 'Reconnecting…' : 'Connecting…'}</Badge>}
          </span>
        }
      />
      {connection.state === 'retrying' && !loaded ? <ErrorState error={connection.error} /> : null}
      {!loaded ? (
        connection.state === 'retrying' ? null : <Loading label="Connecting to live calls…" />
      ) : calls.length === 0 ? (
        <Empty title="No calls in progress">A call shows here the moment your receptionist answers it.</Empty>
      ) : (
        <div aria-live="polite">
          {calls.map((call) => (
            <LiveCallCard key={call.call_id} call={call} timezone={timezone} />
          ))}
        </div>
      )}
    </>
  );
}
