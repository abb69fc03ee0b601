import { compact, text } from '../../lib/search.ts';

export interface CustomersSearch {
  q?: string | undefined;
  cursor?: string | undefined;
}

export const parseCustomersSearch = (raw: Record<string, unknown>): CustomersSearch => compact({ q: text(raw.q, 100), cursor: text(raw.cursor, 1000) });
