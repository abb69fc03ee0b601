import { compact, date } from '../../lib/search.ts';

export interface OverviewSearch {
  from?: string | undefined;
  to?: string | undefined;
}

export const parseOverviewSearch = (raw: Record<string, unknown>): OverviewSearch => compact({ from: date(raw.from), to: date(raw.to) });
