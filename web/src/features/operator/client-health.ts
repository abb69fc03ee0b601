/** A client's health at a glance, from what the admin API reports today (configuration and integrations). */
import { formatCountOf } from '../../lib/format.ts';
import type { ClientSummary } from './operator.queries.ts';
import type { ClientsSearch } from './operator.search.ts';

export interface Health {
  level: 'ok' | 'warn' | 'bad';
  label: string;
  problems: string[];
}

export function healthOf(client: ClientSummary): Health {
  const problems = [
    ...client.health.issues.map((issue) => `${issue.path}: ${issue.message}`),
    ...client.health.integrations.filter((i) => i.status !== 'ok').map((i) => `${i.capability} (${i.provider}): ${i.detail ?? i.status}`),
  ];
  if (client.status === 'invalid') return { level: 'bad', label: 'Configuration invalid', problems };
  if (problems.length > 0) return { level: 'warn', label: formatCountOf(problems.length, 'problem'), problems };
  if (client.status === 'disabled') return { level: 'warn', label: 'Disabled', problems };
  return { level: 'ok', label: 'Healthy', problems };
}

const RANK = { bad: 0, warn: 1, ok: 2 } as const;

/** The URL's filters over the list, then its sort (worst health first by default). */
export function visibleClients(clients: ClientSummary[], search: ClientsSearch): ClientSummary[] {
  const q = search.q?.trim().toLowerCase();
  const filtered = clients.filter(
    (client) =>
      (q === undefined || client.id.includes(q) || (client.name ?? '').toLowerCase().includes(q)) &&
      (search.status === undefined || client.status === search.status) &&
      (search.health === undefined || healthOf(client).level !== 'ok'),
  );
  const sort = search.sort ?? 'health';
  const key = (client: ClientSummary): string | number =>
    sort === 'health' ? RANK[healthOf(client).level] : sort === 'name' ? (client.name ?? client.id).toLowerCase() : sort === 'status' ? client.status : client.id;
  const sorted = [...filtered].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : 1;
  });
  return search.desc ? sorted.reverse() : sorted;
}
