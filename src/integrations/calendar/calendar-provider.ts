/**
 * The one place a client's calendar config picks its provider (an exhaustive switch): the
 * internal appointment book, or Zoho Calendar with that client's OAuth credentials.
 */
import type { CalendarClient, CalendarDeps } from './calendar.service.ts';
import type { CalendarProvider } from './calendar.ts';
import type { CalendarRepo } from './calendar.repo.ts';
import { createInternalCalendar } from './internal.ts';
import { providerTarget } from '../provider-endpoint.ts';
import { createZohoCalendar } from './zoho-calendar.ts';
import { createZohoTokenSource, zohoCalendarBaseUrl } from '../zoho/zoho-oauth.ts';

export function calendarProviderFor(client: CalendarClient, deps: Pick<CalendarDeps, 'cache' | 'providerContext' | 'timeoutMs'>, repo: CalendarRepo): CalendarProvider {
  const calendar = client.config.calendar;
  switch (calendar.provider) {
    case 'internal':
      return createInternalCalendar({ repo, clientId: client.id });
    case 'zoho': {
      const target = providerTarget(client.config.environment, calendar.api_base_url, zohoCalendarBaseUrl(calendar.data_center));
      // A test client without a stand-in: its bookings live in our own book (sandboxNotices says so).
      if (target.kind === 'sandbox') return createInternalCalendar({ repo, clientId: client.id, kind: 'sandbox' });
      const tokens = createZohoTokenSource({
        ctx: deps.providerContext,
        cache: deps.cache,
        clientId: client.id,
        dataCenter: calendar.data_center,
        oauth: calendar.oauth,
        // A test client's token requests go to its stand-in too, never to the real Zoho accounts.
        accountsBaseUrl: calendar.accounts_base_url ?? (client.config.environment === 'test' ? target.baseUrl : undefined),
        ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
      });
      return createZohoCalendar({
        ctx: deps.providerContext,
        tokens,
        clientId: client.id,
        calendarId: calendar.calendar_id,
        userEmail: calendar.user_email,
        baseUrl: zohoCalendarBaseUrl(calendar.data_center, target.baseUrl),
        timezone: client.config.timezone,
        ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
      });
    }
  }
}
