import { compact, oneOf, text } from '../../lib/search.ts';

export const DELIVERY_STATUSES = ['pending', 'waiting', 'succeeded', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveriesSearch {
  status?: DeliveryStatus | undefined;
  cursor?: string | undefined;
}

export const parseDeliveriesSearch = (raw: Record<string, unknown>): DeliveriesSearch =>
  compact({ status: oneOf(raw.status, DELIVERY_STATUSES), cursor: text(raw.cursor, 1000) });

/** What each delivery status means to the client's admin. */
export const DELIVERY_STATUS_LABELS: Record<DeliveryStatus, string> = {
  pending: 'Sending',
  waiting: 'Waiting for an earlier event',
  succeeded: 'Delivered',
  dead: 'Failed',
};

export const deliveryTone = (status: DeliveryStatus) => (status === 'succeeded' ? 'good' : status === 'dead' ? 'bad' : 'warn');
