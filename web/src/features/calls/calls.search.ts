import type { QueryOf } from '../../lib/api.ts';
import { compact, date, oneOf, text } from '../../lib/search.ts';

type CallQuery = QueryOf<'/api/clients/{clientId}/calls'>;
export type Outcome = NonNullable<CallQuery['outcome']>;
export type Sentiment = NonNullable<CallQuery['sentiment']>;
export type Direction = NonNullable<CallQuery['direction']>;

// Records over the generated unions: a value the API adds and the dashboard misses fails typecheck.
export const OUTCOME_LABELS: Record<Outcome, string> = {
  booked: 'Booked',
  message: 'Message taken',
  voicemail: 'Voicemail',
  no_answer: 'No answer',
  other: 'Other',
};
export const SENTIMENT_LABELS: Record<Sentiment, string> = { positive: 'Positive', neutral: 'Neutral', negative: 'Negative', unknown: 'Unknown' };
export const DIRECTION_LABELS: Record<Direction, string> = { inbound: 'Inbound', outbound: 'Outbound' };
export const OUTCOMES = Object.keys(OUTCOME_LABELS) as Outcome[];
export const SENTIMENTS = Object.keys(SENTIMENT_LABELS) as Sentiment[];
export const DIRECTIONS = Object.keys(DIRECTION_LABELS) as Direction[];

/** The calls page's URL: filters the API supports, and the page (cursor). */
export interface CallsSearch {
  from?: string | undefined;
  to?: string | undefined;
  outcome?: Outcome | undefined;
  sentiment?: Sentiment | undefined;
  direction?: Direction | undefined;
  q?: string | undefined;
  cursor?: string | undefined;
}

export function parseCallsSearch(raw: Record<string, unknown>): CallsSearch {
  return compact({
    from: date(raw.from),
    to: date(raw.to),
    outcome: oneOf(raw.outcome, OUTCOMES),
    sentiment: oneOf(raw.sentiment, SENTIMENTS),
    direction: oneOf(raw.direction, DIRECTIONS),
    q: text(raw.q),
    cursor: text(raw.cursor, 1000),
  });
}

/** The filters alone (no page): what the CSV export and the query key share. */
export function callFilters(search: CallsSearch): Omit<CallsSearch, 'cursor'> {
  const { cursor: _cursor, ...filters } = search;
  return filters;
}
