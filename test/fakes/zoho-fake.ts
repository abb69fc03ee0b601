/**
 * A local Zoho (accounts + Calendar v1 + Mail) reproducing the documented requests, responses and
 * errors from ../shared/reference/providers.md §1-3 and §10: token errors with HTTP 200, the
 * refresh throttle, `fb_not_enabled`, `eventdata`/`range` JSON in the query, etag enforcement with a
 * new etag on every write, 401 on unknown tokens, Mail's fromAddress check. It records every
 * request with its headers, so tests can assert which client's credentials each one carried.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ZohoFakeAccount {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  userEmail: string;
  calendars: string[];
  mailAccountId?: string;
  fromAddresses?: string[];
}

export type ZohoTokenMode = 'ok' | 'invalid_code' | 'invalid_client' | 'invalid_client_secret' | 'throttle';

export interface ZohoFakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** Access token sent in Authorization, if any. */
  token?: string;
  /** Refresh token of the account the access token (or token request) belongs to. */
  account?: string;
}

export interface ZohoFakeEvent {
  uid: string;
  etag: string;
  calendar: string;
  title: string;
  description: string;
  location?: string;
  start: string;
  end: string;
  timezone: string;
  raw: Record<string, unknown>;
}

export interface ZohoFakeMail {
  accountId: string;
  body: Record<string, unknown>;
  messageId: string;
}

export interface ZohoFake {
  readonly url: string;
  readonly requests: ZohoFakeRequest[];
  readonly mails: ZohoFakeMail[];
  /** Authorization codes exchanged for tokens (each once: a replay answers invalid_code). */
  readonly exchangedCodes: string[];
  addAccount(account: ZohoFakeAccount): void;
  setTokenMode(refreshToken: string, mode: ZohoTokenMode): void;
  refreshCount(refreshToken: string): number;
  /** Free/busy answers `{"fb_not_enabled":true}` for this user. */
  setFreeBusyEnabled(userEmail: string, enabled: boolean): void;
  /** Every endpoint answers 503. */
  /** `true` answers 503 (not processed); a number answers that status (e.g. 500, may have been processed). */
  setDown(down: boolean | number): void;
  /** Event create stores the event, then waits this long before answering (simulates a timeout after the write). */
  setCreateDelayMs(ms: number): void;
  /** Create answers 500 without storing anything. */
  setCreateFails(fails: boolean): void;
  expireAccessTokens(): void;
  tokenRequestsFor(refreshToken: string): ZohoFakeRequest[];
  events(calendar: string): ZohoFakeEvent[];
  addEvent(calendar: string, event: { start: Date; end: Date; title?: string }): ZohoFakeEvent;
  close(): Promise<void>;
}

const WRITABLE = new Set(['title', 'dateandtime', 'isallday', 'description', 'location', 'attendees', 'reminders', 'notify_attendee', 'isprivate', 'url', 'etag', 'uid']);

function zohoUtc(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses the fake's accepted shapes: yyyyMMdd, yyyyMMdd'T'HHmmss'Z', yyyyMMdd'T'HHmmss±HHMM. */
function parseZoho(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z|[+-]\d{4})?)?Z?$/.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone = 'Z'] = m;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`);
}

export interface ZohoFakeOptions {
  tokenTtlSeconds?: number;
  /** Every response (token, Calendar, Mail, errors) is delayed by this much, like a distant API. Default 0. */
  latencyMs?: number;
}

export async function startZohoFake(options: ZohoFakeOptions = {}): Promise<ZohoFake> {
  const latencyMs = options.latencyMs ?? 0;
  const accounts = new Map<string, ZohoFakeAccount>();
  const tokenModes = new Map<string, ZohoTokenMode>();
  const refreshCounts = new Map<string, number>();
  const accessTokens = new Map<string, string>();
  const fbDisabled = new Set<string>();
  const events = new Map<string, ZohoFakeEvent>();
  const requests: ZohoFakeRequest[] = [];
  const mails: ZohoFakeMail[] = [];
  const grantCodes = new Map<string, { refreshToken: string; redirectUri: string; clientId: string; scope: string }>();
  const exchangedCodes: string[] = [];
  let selfUrl = '';
  let down: boolean | number = false;
  let createDelayMs = 0;
  let createFails = false;
  let etagCounter = Date.now();
  const nextEtag = () => String(++etagCounter);

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const auth = /^(?:Zoho-oauthtoken|Bearer) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const record: ZohoFakeRequest = { method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers, body };
    if (auth !== undefined) {
      record.token = auth;
      const owner = accessTokens.get(auth);
      if (owner !== undefined) record.account = owner;
    }
    requests.push(record);
    if (down !== false) return send(res, down === true ? 503 : down, { error: down === true ? 'service unavailable' : 'internal error' });

    if (url.pathname === '/oauth/v2/auth' && req.method === 'GET') {
      // The consent screen, already approved by the account that owns this OAuth client (§1.2).
      const account = [...accounts.values()].find((a) => a.clientId === url.searchParams.get('client_id'));
      const redirectUri = url.searchParams.get('redirect_uri') ?? '';
      if (!account) return send(res, 400, { error: 'invalid_client' });
      if (url.searchParams.get('response_type') !== 'code' || !/^https?:\/\//.test(redirectUri)) return send(res, 400, { error: 'invalid_request' });
      const code = `1000.${randomBytes(16).toString('hex')}`;
      grantCodes.set(code, { refreshToken: account.refreshToken, redirectUri, clientId: account.clientId, scope: url.searchParams.get('scope') ?? '' });
      const target = new URL(redirectUri);
      target.searchParams.set('code', code);
      target.searchParams.set('state', url.searchParams.get('state') ?? '');
      target.searchParams.set('location', 'us');
      target.searchParams.set('accounts-server', selfUrl);
      res.writeHead(302, { location: target.toString() });
      res.end();
      return;
    }
    if (url.pathname === '/oauth/v2/token' && req.method === 'POST' && new URLSearchParams(body || url.search).get('grant_type') === 'authorization_code') {
      const form = new URLSearchParams(body || url.search);
      const code = form.get('code') ?? '';
      const grant = grantCodes.get(code);
      // Grant codes are single use: the first exchange consumes it.
      grantCodes.delete(code);
      if (!grant) return send(res, 200, { error: 'invalid_code' });
      const account = accounts.get(grant.refreshToken);
      if (!account || form.get('client_id') !== grant.clientId) return send(res, 200, { error: 'invalid_client' });
      if (form.get('client_secret') !== account.clientSecret) return send(res, 200, { error: 'invalid_client_secret' });
      if (form.get('redirect_uri') !== grant.redirectUri) return send(res, 200, { error: 'invalid_redirect_uri' });
      exchangedCodes.push(code);
      const token = `1000.${randomBytes(12).toString('hex')}`;
      accessTokens.set(token, account.refreshToken);
      return send(res, 200, { access_token: token, refresh_token: account.refreshToken, scope: grant.scope, api_domain: 'https://www.zohoapis.com', token_type: 'Bearer', expires_in: options.tokenTtlSeconds ?? 3600 });
    }
    if (url.pathname === '/oauth/v2/token' && req.method === 'POST') {
      const form = new URLSearchParams(body || url.search);
      const refreshToken = form.get('refresh_token') ?? '';
      record.account = refreshToken;
      refreshCounts.set(refreshToken, (refreshCounts.get(refreshToken) ?? 0) + 1);
      const account = accounts.get(refreshToken);
      const mode = tokenModes.get(refreshToken) ?? 'ok';
      if (mode === 'throttle') {
        return send(res, 200, {
          error_description: 'You have made too many requests continuously. Please try again after some time.',
          error: 'Access Denied',
          status: 'failure',
        });
      }
      // Zoho reports these with HTTP 200.
      if (mode !== 'ok') return send(res, 200, { error: mode });
      if (form.get('grant_type') !== 'refresh_token' || !account) return send(res, 200, { error: 'invalid_code' });
      if (form.get('client_id') !== account.clientId) return send(res, 200, { error: 'invalid_client' });
      if (form.get('client_secret') !== account.clientSecret) return send(res, 200, { error: 'invalid_client_secret' });
      const token = `1000.${randomBytes(12).toString('hex')}`;
      accessTokens.set(token, refreshToken);
      return send(res, 200, { access_token: token, api_domain: 'https://www.zohoapis.com', token_type: 'Bearer', expires_in: options.tokenTtlSeconds ?? 3600 });
    }

    const isMail = url.pathname.startsWith('/api/accounts');
    const account = auth !== undefined ? accounts.get(accessTokens.get(auth) ?? '') : undefined;
    if (!account) {
      return isMail
        ? send(res, 401, { status: { code: 401, description: 'Invalid Input' }, data: { errorCode: 'INVALID_OAUTHTOKEN' } })
        : send(res, 401, { error: { code: 'INVALID_OAUTHTOKEN', message: 'Invalid OAuth token' } });
    }
    if (isMail) return handleMail(req, res, url, body, account);
    return handleCalendar(req, res, url, account);
  }

  function handleMail(req: IncomingMessage, res: ServerResponse, url: URL, body: string, account: ZohoFakeAccount): void {
    if (req.method === 'GET' && url.pathname === '/api/accounts') {
      return send(res, 200, {
        status: { code: 200, description: 'success' },
        data: account.mailAccountId
          ? [
              {
                accountId: account.mailAccountId,
                primaryEmailAddress: account.userEmail,
                sendMailDetails: (account.fromAddresses ?? [account.userEmail]).map((fromAddress) => ({ fromAddress })),
              },
            ]
          : [],
      });
    }
    const match = /^\/api\/accounts\/([^/]+)\/messages$/.exec(url.pathname);
    if (req.method === 'POST' && match) {
      if (match[1] !== account.mailAccountId) return send(res, 404, { status: { code: 404, description: 'Invalid URL' }, data: { errorCode: 'URL_RULE_NOT_CONFIGURED' } });
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return send(res, 400, { status: { code: 400, description: 'Invalid Input' }, data: { errorCode: 'JSON_PARSE_ERROR' } });
      }
      const allowed = account.fromAddresses ?? [account.userEmail];
      if (typeof payload.fromAddress !== 'string' || !allowed.includes(payload.fromAddress)) {
        return send(res, 400, { status: { code: 400, description: 'Invalid Input' }, data: { errorCode: 'INVALID_FROM_ADDRESS', moreInfo: 'fromAddress is not an address of this account' } });
      }
      if (typeof payload.toAddress !== 'string' || payload.toAddress === '') {
        return send(res, 400, { status: { code: 400, description: 'Invalid Input' }, data: { errorCode: 'EXTRA_PARAM_FOUND', moreInfo: 'toAddress required' } });
      }
      const messageId = String(Date.now()) + String(mails.length);
      mails.push({ accountId: account.mailAccountId ?? '', body: payload, messageId });
      return send(res, 200, { status: { code: 200, description: 'success' }, data: { messageId, fromAddress: payload.fromAddress, mode: payload.mode ?? null } });
    }
    return send(res, 404, { status: { code: 404, description: 'Invalid URL' }, data: { errorCode: 'URL_RULE_NOT_CONFIGURED' } });
  }

  const eventJson = (event: ZohoFakeEvent, large: boolean) => ({
    uid: event.uid,
    etag: event.etag,
    title: event.title,
    ...(large ? { description: event.description } : {}),
    ...(event.location !== undefined ? { location: event.location } : {}),
    isallday: false,
    dateandtime: { timezone: event.timezone, start: event.start, end: event.end },
  });

  async function handleCalendar(req: IncomingMessage, res: ServerResponse, url: URL, account: ZohoFakeAccount): Promise<void> {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/api/v1/calendars') {
      return send(res, 200, {
        calendars: account.calendars.map((uid, i) => ({ uid, name: uid, isdefault: i === 0, privilege: 'owner', timezone: 'America/New_York', include_infreebusy: true })),
      });
    }
    if (req.method === 'GET' && path === '/api/v1/calendars/freebusy') {
      if (url.searchParams.get('uemail') !== account.userEmail) return send(res, 400, { error: { code: 'PATTERN_NOT_MATCHED', message: 'uemail' } });
      if (fbDisabled.has(account.userEmail)) return send(res, 200, { fb_not_enabled: true });
      const from = parseZoho(url.searchParams.get('sdate') ?? '');
      const to = parseZoho(url.searchParams.get('edate') ?? '');
      if (Number.isNaN(from) || Number.isNaN(to)) return send(res, 400, { error: { code: 'PATTERN_NOT_MATCHED', message: 'sdate/edate' } });
      const busy = [...events.values()]
        .filter((e) => account.calendars.includes(e.calendar) && parseZoho(e.start) < to && parseZoho(e.end) > from)
        .map((e) => ({ fbtype: 'busy', startTime: zohoUtc(new Date(parseZoho(e.start))), endTime: zohoUtc(new Date(parseZoho(e.end))) }));
      return send(res, 200, { freebusy: busy });
    }
    const match = /^\/api\/v1\/calendars\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
    if (!match?.[1]) return send(res, 404, { error: { code: 'NOT_FOUND', message: 'no such path' } });
    const calendar = decodeURIComponent(match[1]);
    const uid = match[2] !== undefined ? decodeURIComponent(match[2]) : undefined;
    if (!account.calendars.includes(calendar)) return send(res, 403, { error: { code: 'NO_PERMISSION', message: 'calendar not accessible with this token' } });
    const large = (req.headers.accept ?? '').includes('application/json+large');

    if (uid === undefined && req.method === 'GET') {
      let range: { start?: string; end?: string };
      try {
        range = JSON.parse(url.searchParams.get('range') ?? '') as { start?: string; end?: string };
      } catch {
        return send(res, 400, { error: { code: 'PATTERN_NOT_MATCHED', message: 'range is mandatory' } });
      }
      const from = parseZoho(range.start ?? '');
      const to = parseZoho(range.end ?? '');
      if (Number.isNaN(from) || Number.isNaN(to) || to - from > 31 * 86_400_000) return send(res, 400, { error: { code: 'PATTERN_NOT_MATCHED', message: 'range' } });
      const found = [...events.values()].filter((e) => e.calendar === calendar && parseZoho(e.start) < to && parseZoho(e.end) > from);
      return send(res, 200, { events: found.map((e) => eventJson(e, large)) });
    }

    const parseEventData = (): Record<string, unknown> | string => {
      const raw = url.searchParams.get('eventdata');
      if (raw === null) return 'eventdata is mandatory';
      try {
        const data = JSON.parse(raw) as Record<string, unknown>;
        const extra = Object.keys(data).find((k) => !WRITABLE.has(k));
        return extra === undefined ? data : `EXTRA_KEY_FOUND_IN_JSON:${extra}`;
      } catch {
        return 'eventdata is not JSON';
      }
    };

    if (uid === undefined && req.method === 'POST') {
      const data = parseEventData();
      if (typeof data === 'string') return send(res, 400, { error: { code: data.startsWith('EXTRA') ? 'EXTRA_KEY_FOUND_IN_JSON' : 'PATTERN_NOT_MATCHED', message: data } });
      if ('etag' in data) return send(res, 400, { error: { code: 'EXTRA_KEY_FOUND_IN_JSON', message: 'etag' } });
      const dt = data.dateandtime as { start?: unknown; end?: unknown; timezone?: unknown } | undefined;
      if (typeof dt?.start !== 'string' || typeof dt.end !== 'string' || Number.isNaN(parseZoho(dt.start)) || Number.isNaN(parseZoho(dt.end))) {
        return send(res, 400, { error: { code: 'PATTERN_NOT_MATCHED', message: 'dateandtime' } });
      }
      if (createFails) return send(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
      const event: ZohoFakeEvent = {
        uid: `${randomBytes(16).toString('hex')}@zoho.com`,
        etag: nextEtag(),
        calendar,
        title: typeof data.title === 'string' ? data.title : '',
        description: typeof data.description === 'string' ? data.description : '',
        start: dt.start,
        end: dt.end,
        timezone: typeof dt.timezone === 'string' ? dt.timezone : 'UTC',
        raw: data,
      };
      events.set(event.uid, event);
      if (createDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, createDelayMs));
      return send(res, 201, { events: [eventJson(event, true)] });
    }

    const event = uid !== undefined ? events.get(uid) : undefined;
    if (!event || event.calendar !== calendar) return send(res, 404, { error: { code: 'NOT_FOUND', message: 'event not found' } });

    if (req.method === 'GET') return send(res, 200, { events: [eventJson(event, true)] });

    if (req.method === 'PUT') {
      const data = parseEventData();
      if (typeof data === 'string') return send(res, 400, { error: { code: data.startsWith('EXTRA') ? 'EXTRA_KEY_FOUND_IN_JSON' : 'PATTERN_NOT_MATCHED', message: data } });
      if (data.etag === undefined) return send(res, 400, { error: { code: 'PATTERN_NOT_MATCHED', message: 'etag is mandatory' } });
      if ((typeof data.etag === 'number' || typeof data.etag === 'string' ? String(data.etag) : '') !== event.etag) return send(res, 409, { error: { code: 'ETAG_MISMATCH', message: 'etag does not match the latest version' } });
      const dt = data.dateandtime as { start?: unknown; end?: unknown; timezone?: unknown } | undefined;
      if (typeof dt?.start !== 'string' || typeof dt.end !== 'string') return send(res, 400, { error: { code: 'PATTERN_NOT_MATCHED', message: 'dateandtime' } });
      // Full replace: fields not sent are cleared.
      event.title = typeof data.title === 'string' ? data.title : '';
      event.description = typeof data.description === 'string' ? data.description : '';
      if (typeof data.location === 'string') event.location = data.location;
      else delete event.location;
      event.start = dt.start;
      event.end = dt.end;
      event.timezone = typeof dt.timezone === 'string' ? dt.timezone : event.timezone;
      event.raw = data;
      event.etag = nextEtag();
      return send(res, 200, { events: [eventJson(event, true)] });
    }

    if (req.method === 'DELETE') {
      const etag = req.headers.etag;
      if (etag !== event.etag) return send(res, 409, { error: { code: 'ETAG_MISMATCH', message: 'etag does not match the latest version' } });
      events.delete(event.uid);
      return send(res, 200, { events: [{ uid: event.uid, estatus: 'deleted' }] });
    }
    return send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: req.method ?? '' } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: { code: 'FAKE_ERROR', message: String(error) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  selfUrl = `http://127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    mails,
    exchangedCodes,
    addAccount(account) {
      accounts.set(account.refreshToken, account);
    },
    setTokenMode(refreshToken, mode) {
      tokenModes.set(refreshToken, mode);
    },
    refreshCount: (refreshToken) => refreshCounts.get(refreshToken) ?? 0,
    setFreeBusyEnabled(userEmail, enabled) {
      if (enabled) fbDisabled.delete(userEmail);
      else fbDisabled.add(userEmail);
    },
    setDown(value) {
      down = value;
    },
    setCreateDelayMs(ms) {
      createDelayMs = ms;
    },
    setCreateFails(fails) {
      createFails = fails;
    },
    expireAccessTokens() {
      accessTokens.clear();
    },
    tokenRequestsFor: (refreshToken) => requests.filter((r) => r.path === '/oauth/v2/token' && r.account === refreshToken),
    events: (calendar) => [...events.values()].filter((e) => e.calendar === calendar),
    addEvent(calendar, input) {
      const event: ZohoFakeEvent = {
        uid: `${randomBytes(16).toString('hex')}@zoho.com`,
        etag: nextEtag(),
        calendar,
        title: input.title ?? 'Busy',
        description: '',
        start: zohoUtc(input.start),
        end: zohoUtc(input.end),
        timezone: 'UTC',
        raw: {},
      };
      events.set(event.uid, event);
      return event;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A URL on a port nothing listens on (connection refused), for "request never sent" cases. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
