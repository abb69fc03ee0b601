import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { formatDateTime, formatPhone, humanize } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { Badge, statusTone } from '../../ui/badge.tsx';
import type { TableFeatureSet } from '../../ui/data-table.tsx';
import { PagedTable } from '../../ui/paged-table.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { CallLink } from '../calls/call-link.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { messageQueries, type Message } from './messages.queries.ts';
import { CHANNELS, MESSAGE_STATUSES, type MessagesSearch } from './messages.search.ts';

const route = getRouteApi('/app/c/$clientId/messages');
const helper = createColumnHelper<TableFeatureSet, Message>();

/** What each status means to the owner. */
export const STATUS_HELP: Record<(typeof MESSAGE_STATUSES)[number], string> = {
  pending: 'Waiting to be sent',
  sending: 'Being sent',
  sent: 'Handed to the provider',
  delivered: 'Delivered',
  failed: 'Not sent',
  unknown: 'Sent, delivery not confirmed',
  suppressed: 'Not sent: the customer opted out',
  sandbox: 'Test mode: rendered, not sent',
  held: 'Held until quiet hours end',
};

function columns(clientId: string, timezone: string) {
  return helper.columns([
    helper.accessor('created_at', { header: 'When', cell: (info) => <span className="nowrap">{formatDateTime(info.getValue(), timezone)}</span> }),
    helper.accessor('channel', { header: 'Type', cell: (info) => `${info.getValue() === 'sms' ? 'Text' : 'Email'} · ${humanize(info.row.original.kind).toLowerCase()}` }),
    helper.accessor('to_address', { header: 'To', cell: (info) => (info.row.original.channel === 'sms' ? formatPhone(info.getValue()) : info.getValue()) }),
    helper.accessor('status', {
      header: 'Status',
      cell: (info) => {
        const status = info.getValue() as (typeof MESSAGE_STATUSES)[number];
        const { error_code: code, error_message: reason } = info.row.original;
        return (
          <>
            <Badge tone={statusTone(status)}>{humanize(status)}</Badge>
            {reason || code ? (
              <span className="cell-note error-text">{[reason, code ? `(${code})` : null].filter(Boolean).join(' ')}</span>
            ) : (
              <span className="cell-note muted small">{STATUS_HELP[status] ?? ''}</span>
            )}
          </>
        );
      },
    }),
    helper.accessor('body', { header: 'Message', cell: (info) => <span className="clamp">{info.row.original.subject ? `${info.row.original.subject}: ` : ''}{info.getValue()}</span> }),
    helper.accessor('call_id', {
      header: 'Call',
      cell: (info) => <CallLink clientId={clientId} callId={info.getValue()} />,
    }),
  ]);
}

export function MessagesPage() {
  const { clientId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const settings = useQuery(settingsQueries.detail(clientId));
  const timezone = timezoneOf(settings.data);
  const messages = useQuery(messageQueries.list(clientId, search));
  const tableColumns = useMemo(() => columns(clientId, timezone), [clientId, timezone]);
  const setFilter = (next: Omit<MessagesSearch, 'cursor'>) => void navigate({ search: compact({ channel: search.channel, status: search.status, ...next }) });

  return (
    <>
      <PageHeader title="Messages" description={`Texts and emails sent after calls, with what happened to each. Times in ${timezone}.`} />
      <div className="filters">
        <label className="field">
          <span>Type</span>
          <select value={search.channel ?? ''} onChange={(e) => setFilter({ channel: (e.target.value || undefined) as MessagesSearch['channel'] })}>
            <option value="">Texts and emails</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c === 'sms' ? 'Texts' : 'Emails'}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Status</span>
          <select value={search.status ?? ''} onChange={(e) => setFilter({ status: (e.target.value || undefined) as MessagesSearch['status'] })}>
            <option value="">Any</option>
            {MESSAGE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <QueryState
        query={messages}
        loadingLabel="Loading messages…"
        isEmpty={(page) => page.data.length === 0}
        empty={<Empty title={search.channel || search.status ? 'No messages match these filters' : 'No messages yet'}>Follow-up texts and summary emails appear here after calls.</Empty>}
      >
        {(page) => (
          <PagedTable
            caption="Messages"
            columns={tableColumns}
            rows={page.data}
            rowKey={(m) => m.id}
            nextCursor={page.next_cursor}
            cursor={search.cursor}
            onCursor={(cursor) => void navigate({ search: { ...search, cursor } })}
          />
        )}
      </QueryState>
    </>
  );
}
