import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { Tabs } from 'radix-ui';
import { formatDateTime, formatDuration, formatPhone, humanize } from '../../lib/format.ts';
import { Badge, statusTone } from '../../ui/badge.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { callQueries, type CallDetail } from './calls.queries.ts';
import { OUTCOME_LABELS } from './calls.search.ts';
import { callTimeline } from './timeline.ts';
import { conversation } from './transcript.ts';

const route = getRouteApi('/app/c/$clientId/calls/$callId');

export function CallDetailPage() {
  const { clientId, callId } = route.useParams();
  const settings = useQuery(settingsQueries.detail(clientId));
  const call = useQuery(callQueries.detail(clientId, callId));
  const timezone = timezoneOf(settings.data);
  return (
    <>
      <p className="back-link">
        <Link to="/c/$clientId/calls" params={{ clientId }}>
          ← All calls
        </Link>
      </p>
      <QueryState query={call} loadingLabel="Loading the call…">
        {(data) => <CallBody call={data} timezone={timezone} />}
      </QueryState>
    </>
  );
}

function analysisOf(call: CallDetail): { summary: string | null; successful: boolean | null; custom: Record<string, unknown> } {
  const analysis = (typeof call.analysis === 'object' && call.analysis !== null ? call.analysis : {}) as Record<string, unknown>;
  const custom = analysis.custom_analysis_data;
  return {
    summary: call.summary ?? (typeof analysis.call_summary === 'string' ? analysis.call_summary : null),
    successful: call.successful,
    custom: typeof custom === 'object' && custom !== null ? (custom as Record<string, unknown>) : {},
  };
}

function CallBody({ call, timezone }: { call: CallDetail; timezone: string }) {
  const caller = call.direction === 'outbound' ? call.to_number : call.from_number;
  const turns = conversation(call.transcript_object, call.transcript);
  const timeline = callTimeline(call);
  const analysis = analysisOf(call);
  const sentiment = call.sentiment?.toLowerCase() ?? null;
  return (
    <>
      <PageHeader
        title={`Call with ${formatPhone(caller)}`}
        description={`${formatDateTime(call.started_at ?? call.created_at, timezone)} · ${formatDuration(call.duration_ms)} · ${call.direction === 'outbound' ? 'Outbound' : 'Inbound'}`}
        actions={
          <div className="badges">
            <Badge tone={call.outcome === 'booked' ? 'good' : 'neutral'}>{OUTCOME_LABELS[call.outcome]}</Badge>
            {sentiment ? <Badge tone={statusTone(sentiment)}>{`${humanize(sentiment)} sentiment`}</Badge> : null}
          </div>
        }
      />
      <section className="card" aria-labelledby="summary-title">
        <h2 id="summary-title">Summary</h2>
        <p>{analysis.summary ?? 'No summary yet: Retell sends its analysis shortly after the call ends.'}</p>
        <dl className="facts">
          <div>
            <dt>Goal reached</dt>
            <dd>{analysis.successful === null ? '–' : analysis.successful ? 'Yes' : 'No'}</dd>
          </div>
          <div>
            <dt>Ended because</dt>
            <dd>{humanize(call.disconnection_reason)}</dd>
          </div>
          {call.appointment ? (
            <div>
              <dt>Appointment</dt>
              <dd>
                {formatDateTime(call.appointment.starts_at, timezone)}
                {call.appointment.status === 'cancelled' ? ' (cancelled)' : ''}
              </dd>
            </div>
          ) : null}
          {Object.entries(analysis.custom).map(([key, value]) => (
            <div key={key}>
              <dt>{humanize(key)}</dt>
              <dd>{typeof value === 'boolean' ? (value ? 'Yes' : 'No') : typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value)}</dd>
            </div>
          ))}
        </dl>
        {call.recording_url ? (
          <div className="recording">
            <h3>Recording</h3>
            {/* preload="none": nothing is fetched until the owner presses play. */}
            <audio controls preload="none" src={call.recording_url} aria-label="Call recording">
              <a href={call.recording_url}>Download the recording</a>
            </audio>
          </div>
        ) : null}
      </section>

      <Tabs.Root defaultValue="conversation" className="tabs">
        <Tabs.List className="tab-list" aria-label="Call details">
          <Tabs.Trigger value="conversation" className="tab">
            Conversation
          </Tabs.Trigger>
          <Tabs.Trigger value="timeline" className="tab">
            Timeline
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="conversation" className="tab-panel">
          {turns.length === 0 ? (
            <Empty title="No transcript">Retell sends the transcript when the call ends{call.status === 'not_connected' ? '; this call never connected' : ''}.</Empty>
          ) : (
            <ol className="conversation" aria-label="Transcript">
              {turns.map((turn, index) => (
                <li key={index} className={`turn turn-${turn.speaker}`}>
                  <span className="turn-speaker">{turn.speaker === 'agent' ? 'Receptionist' : 'Caller'}</span>
                  <p className="turn-text">{turn.text}</p>
                </li>
              ))}
            </ol>
          )}
        </Tabs.Content>
        <Tabs.Content value="timeline" className="tab-panel">
          {timeline.length === 0 ? (
            <Empty title="Nothing recorded yet" />
          ) : (
            <ol className="timeline">
              {timeline.map((entry, index) => (
                <li key={index} className={`timeline-entry tone-${entry.tone}`}>
                  <time dateTime={entry.at}>{formatDateTime(entry.at, timezone)}</time>
                  <div>
                    <p className="timeline-title">{entry.title}</p>
                    {entry.detail ? <p className="muted small">{entry.detail}</p> : null}
                  </div>
                </li>
              ))}
            </ol>
          )}
        </Tabs.Content>
      </Tabs.Root>
    </>
  );
}
