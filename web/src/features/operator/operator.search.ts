import type { QueryOf, ResponseOf } from '../../lib/api.ts';
import { compact, oneOf, text } from '../../lib/search.ts';

export type ClientStatus = ResponseOf<'/api/admin/clients'>['clients'][number]['status'];
export type Role = NonNullable<QueryOf<'/api/admin/users'>['role']>;
export type AuditAction = NonNullable<QueryOf<'/api/admin/audit'>['action']>;

// Records over the generated unions: a value the API adds and the console misses fails typecheck.
export const CLIENT_STATUS_LABELS: Record<ClientStatus, string> = { active: 'Active', disabled: 'Disabled', invalid: 'Invalid config' };
export const ROLE_LABELS: Record<Role, string> = { platform_admin: 'Operator', client_admin: 'Client admin', client_viewer: 'Client viewer' };
export const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  'client.create': 'Client created',
  'client.update': 'Client changed',
  'client.disable': 'Client disabled',
  'user.create': 'User created',
  'user.invite': 'User invited',
  'user.update': 'User changed',
  'keys.rotate': 'Keys rotated',
  'webhook_subscription.create': 'Webhook added',
  'webhook_subscription.update': 'Webhook changed',
  'webhook_subscription.rotate_secret': 'Webhook secret rotated',
  'webhook_subscription.disable': 'Webhook disabled',
  'webhook_subscription.enable': 'Webhook enabled',
  'webhook_subscription.delete': 'Webhook deleted',
  'webhook_delivery.replay': 'Webhook delivery replayed',
  'appointment.cancel': 'Appointment cancelled',
  'appointment.reschedule': 'Appointment rescheduled',
};
export const CLIENT_STATUSES = Object.keys(CLIENT_STATUS_LABELS) as ClientStatus[];
export const ROLES = Object.keys(ROLE_LABELS) as Role[];
export const AUDIT_ACTIONS = Object.keys(AUDIT_ACTION_LABELS) as AuditAction[];
export const CLIENT_SORTS = ['id', 'name', 'status', 'health'] as const;

export interface ClientsSearch {
  q?: string | undefined;
  status?: ClientStatus | undefined;
  health?: 'problems' | undefined;
  sort?: (typeof CLIENT_SORTS)[number] | undefined;
  desc?: boolean | undefined;
}

export const parseClientsSearch = (raw: Record<string, unknown>): ClientsSearch =>
  compact({
    q: text(raw.q),
    status: oneOf(raw.status, CLIENT_STATUSES),
    health: oneOf(raw.health, ['problems'] as const),
    sort: oneOf(raw.sort, CLIENT_SORTS),
    desc: raw.desc === true || raw.desc === 'true' ? true : undefined,
  });

export interface UsersSearch {
  role?: Role | undefined;
  client?: string | undefined;
}

export const parseUsersSearch = (raw: Record<string, unknown>): UsersSearch => compact({ role: oneOf(raw.role, ROLES), client: text(raw.client, 100) });

export interface AuditSearch {
  action?: AuditAction | undefined;
  client?: string | undefined;
  cursor?: string | undefined;
}

export const parseAuditSearch = (raw: Record<string, unknown>): AuditSearch =>
  compact({ action: oneOf(raw.action, AUDIT_ACTIONS), client: text(raw.client, 100), cursor: text(raw.cursor, 20) });

export interface AlertsSearch {
  /** Show this client's alert history. */
  client?: string | undefined;
}

export const parseAlertsSearch = (raw: Record<string, unknown>): AlertsSearch => compact({ client: text(raw.client) });
