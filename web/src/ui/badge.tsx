import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** Message and call statuses as colours people read at a glance. */
export function statusTone(status: string | null): Tone {
  switch (status) {
    case 'delivered':
    case 'sent':
    case 'booked':
    case 'active':
    case 'ok':
    case 'positive':
      return 'good';
    case 'failed':
    case 'invalid':
    case 'negative':
    case 'error':
    case 'cancelled':
      return 'bad';
    case 'held':
    case 'pending':
    case 'sending':
    case 'unknown':
    case 'disabled':
      return 'warn';
    case 'sandbox':
    case 'test':
      return 'info';
    case null:
    default:
      return 'neutral';
  }
}
