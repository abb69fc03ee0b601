/**
 * Fake Twilio Messages API (../shared/reference/providers.md §5): Basic auth per account, the
 * test-credential magic numbers (§5.5), the 201 body (§5.1) and error bodies (§5.2), plus modes
 * for 429 / 503 / a request that never gets an answer. Also signs status callbacks like Twilio.
 * Onboarding's checks: Fetch Account, IncomingPhoneNumbers, and Fetch a Messaging Service
 * (`GET /v1/Services/{MG…}` on messaging.twilio.com: the Service resource as the twilio SDK maps it,
 * and 20404 "resource not found" (§5.2) for a service the account does not have).
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { sendJson, startFakeServer, type FakeMode, type FakeServer } from './http-fake.ts';

export interface FakeTwilioMessage {
  sid: string;
  account_sid: string;
  messaging_service_sid: string | null;
  from: string | null;
  to: string;
  body: string;
  status: string;
  status_callback: string | null;
  date_created: Date;
  date_sent: Date | null;
}

export interface TwilioFake extends FakeServer {
  mode: FakeMode;
  /** Every message accepted (201), per account. */
  messages: FakeTwilioMessage[];
  /** Sends `count` failures in the current mode, then returns to `normal`. */
  failNext(mode: Exclude<FakeMode, 'normal'>, count?: number): void;
}

/** Valid `From` in the test-credential table; other numbers can be added per fake. */
export const twilioMagicFrom = { valid: '+15005550006', invalid: '+15005550001', notOwned: '+15005550007', queueFull: '+15005550008' } as const;

/** `To` numbers that fail with a fixed code (§5.5). */
export const twilioMagicTo: Record<string, { code: number; message: string }> = {
  '+15005550001': { code: 21211, message: "The 'To' number +15005550001 is not a valid phone number." },
  '+15005550002': { code: 21612, message: "The 'To' phone number is not currently reachable via SMS." },
  '+15005550003': { code: 21408, message: 'Permission to send an SMS has not been enabled for the region indicated by the To number.' },
  '+15005550004': { code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  '+15005550009': { code: 21614, message: "'To' number is not a valid mobile number" },
};

const fromErrors: Record<string, { code: number; message: string }> = {
  [twilioMagicFrom.invalid]: { code: 21212, message: "The 'From' number +15005550001 is not a valid phone number." },
  [twilioMagicFrom.notOwned]: { code: 21606, message: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account." },
  [twilioMagicFrom.queueFull]: { code: 21611, message: "This 'From' number has exceeded the maximum number of queued messages." },
};

function errorBody(code: number, message: string, status: number) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function rfc2822(date: Date | null): string | null {
  return date === null ? null : date.toUTCString().replace('GMT', '+0000');
}

function messageJson(message: FakeTwilioMessage, status = message.status, dateSent = message.date_sent) {
  const uri = `/2010-04-01/Accounts/${message.account_sid}/Messages/${message.sid}.json`;
  return {
    sid: message.sid,
    account_sid: message.account_sid,
    messaging_service_sid: message.messaging_service_sid,
    from: message.from,
    to: message.to,
    body: message.body,
    status,
    direction: 'outbound-api',
    num_segments: '1',
    num_media: '0',
    price: null,
    price_unit: 'USD',
    error_code: null,
    error_message: null,
    date_created: rfc2822(message.date_created),
    date_updated: rfc2822(message.date_created),
    date_sent: rfc2822(dateSent),
    api_version: '2010-04-01',
    uri,
    subresource_uris: { media: uri.replace('.json', '/Media.json') },
  };
}

const accountPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})(?:\/(IncomingPhoneNumbers))?\.json$/;
const messagesPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/;
const servicePath = /^\/v1\/Services\/([^/]+)$/;

function serviceJson(sid: string, accountSid: string, friendlyName: string) {
  const created = rfc2822(new Date(Date.UTC(2025, 2, 10, 14)));
  const url = `https://messaging.twilio.com/v1/Services/${sid}`;
  return {
    account_sid: accountSid,
    sid,
    friendly_name: friendlyName,
    date_created: created,
    date_updated: created,
    inbound_request_url: null,
    inbound_method: 'POST',
    fallback_url: null,
    fallback_method: 'POST',
    status_callback: null,
    sticky_sender: true,
    mms_converter: true,
    smart_encoding: true,
    scan_message_content: 'inherit',
    fallback_to_long_code: true,
    area_code_geomatch: true,
    synchronous_validation: false,
    validity_period: 14400,
    url,
    links: { phone_numbers: `${url}/PhoneNumbers`, short_codes: `${url}/ShortCodes`, alpha_senders: `${url}/AlphaSenders`, messages: `${url}/Messages`, us_app_to_person: `${url}/Compliance/Usa2p`, us_app_to_person_usecases: `${url}/Compliance/Usa2p/Usecases`, channel_senders: `${url}/ChannelSenders` },
    usecase: 'notifications',
    us_app_to_person_registered: false,
    use_inbound_webhook_on_number: false,
  };
}

/**
 * @param accounts Account SID → auth token accepted by this fake.
 * @param ownedNumbers Extra `From` numbers that succeed, besides +15005550006.
 * @param messagingServices Messaging Service SID (MG…) → the Account SID that owns it.
 */
export async function startTwilioFake(options: { accounts: Record<string, string>; ownedNumbers?: string[]; messagingServices?: Record<string, string> }): Promise<TwilioFake> {
  const messages: FakeTwilioMessage[] = [];
  const owned = new Set([twilioMagicFrom.valid, ...(options.ownedNumbers ?? [])]);
  let failuresLeft = Infinity;
  const state = { mode: 'normal' as FakeMode };

  const server = await startFakeServer((request, response) => {
    const mode = state.mode;
    if (mode !== 'normal') {
      failuresLeft -= 1;
      if (failuresLeft <= 0) {
        state.mode = 'normal';
        failuresLeft = Infinity;
      }
    }
    if (mode === 'hang') return;
    if (mode === 'down') return sendJson(response, 503, errorBody(20503, 'Service Unavailable', 503));
    if (mode === 'error') return sendJson(response, 500, errorBody(20500, 'Internal Server Error', 500));
    if (mode === 'rate_limited') return sendJson(response, 429, errorBody(20429, 'Too Many Requests', 429));

    const service = servicePath.exec(request.path);
    if (service) {
      // Basic auth as everywhere; a service of another account is not found, like one that never existed.
      const sid = service[1] ?? '';
      const [user, password] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
      if (user === undefined || password === undefined || options.accounts[user] !== password) return sendJson(response, 401, errorBody(20003, 'Authenticate', 401));
      if (request.method !== 'GET') return sendJson(response, 405, errorBody(20004, 'Method not allowed', 405));
      const owner = options.messagingServices?.[sid];
      if (owner !== user) return sendJson(response, 404, errorBody(20404, `The requested resource /Services/${sid} was not found`, 404));
      return sendJson(response, 200, serviceJson(sid, owner, `Service ${sid.slice(-4)}`));
    }
    const account = accountPath.exec(request.path);
    if (account) {
      // Fetch Account and list IncomingPhoneNumbers (what onboarding checks): same Basic auth.
      const sid = account[1] ?? '';
      const [user, password] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
      if (user !== sid || password === undefined || options.accounts[sid] !== password) return sendJson(response, 401, errorBody(20003, 'Authenticate', 401));
      if (request.method !== 'GET') return sendJson(response, 405, errorBody(20004, 'Method not allowed', 405));
      if (account[2] === undefined) {
        return sendJson(response, 200, { sid, friendly_name: `Account ${sid.slice(-4)}`, status: 'active', type: 'Full', uri: `/2010-04-01/Accounts/${sid}.json` });
      }
      const wanted = request.query.get('PhoneNumber');
      const numbers = [...owned].filter((n) => n !== twilioMagicFrom.valid && (wanted === null || n === wanted));
      return sendJson(response, 200, {
        incoming_phone_numbers: numbers.map((n) => ({ sid: `PN${n.replace(/\D/g, '').padStart(32, '0').slice(-32)}`, account_sid: sid, phone_number: n, capabilities: { sms: true, voice: true, mms: false } })),
        page: 0,
        page_size: 50,
        next_page_uri: null,
      });
    }
    const match = messagesPath.exec(request.path);
    if (!match) return sendJson(response, 404, errorBody(20404, 'The requested resource was not found', 404));
    const accountSid = match[1] ?? '';
    const [user, password] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
    if (user !== accountSid || password === undefined || options.accounts[accountSid] !== password) {
      return sendJson(response, 401, errorBody(20003, 'Authenticate', 401));
    }

    if (request.method === 'GET') {
      const to = request.query.get('To');
      const sentAfter = request.query.get('DateSent>');
      const after = sentAfter === null ? undefined : Date.parse(sentAfter);
      const page = messages
        .filter((m) => m.account_sid === accountSid && (to === null || m.to === to))
        .filter((m) => after === undefined || (m.date_sent !== null && m.date_sent.getTime() >= after))
        .sort((a, b) => b.date_created.getTime() - a.date_created.getTime())
        .map((m) => messageJson(m));
      const uri = `${request.path}?${request.query.toString()}`;
      return sendJson(response, 200, {
        messages: page,
        end: Math.max(0, page.length - 1),
        first_page_uri: uri,
        next_page_uri: null,
        page: 0,
        page_size: page.length,
        previous_page_uri: null,
        start: 0,
        uri,
      });
    }
    if (request.method !== 'POST') return sendJson(response, 405, errorBody(20004, 'Method not allowed', 405));

    const form = (request.body ?? {}) as Record<string, string>;
    const to = form.To;
    const from = form.From;
    const serviceSid = form.MessagingServiceSid;
    if (!to) return sendJson(response, 400, errorBody(21604, "A 'To' phone number is required.", 400));
    if (!from && !serviceSid) return sendJson(response, 400, errorBody(21603, "A 'From' phone number is required.", 400));
    if (!form.Body) return sendJson(response, 400, errorBody(21602, 'Message body is required.', 400));
    if (form.Body.length > 1600) return sendJson(response, 400, errorBody(21617, 'The concatenated message body exceeds the 1600 character limit.', 400));
    if (from) {
      const fromError = fromErrors[from];
      if (fromError) return sendJson(response, 400, errorBody(fromError.code, fromError.message, 400));
      if (!owned.has(from)) return sendJson(response, 400, errorBody(21606, `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination/account.`, 400));
    }
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return sendJson(response, 400, errorBody(21211, `The 'To' number ${to} is not a valid phone number.`, 400));
    const toError = twilioMagicTo[to];
    if (toError) return sendJson(response, 400, errorBody(toError.code, toError.message, 400));

    const now = new Date();
    const message: FakeTwilioMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      account_sid: accountSid,
      messaging_service_sid: serviceSid ?? null,
      from: from ?? null,
      to,
      body: form.Body,
      // Accepted as queued; the fake "sends" at once so the list API can find it by DateSent.
      status: 'sent',
      status_callback: form.StatusCallback ?? null,
      date_created: now,
      date_sent: now,
    };
    messages.push(message);
    sendJson(response, 201, messageJson(message, serviceSid ? 'accepted' : 'queued', null));
  });

  const failNext = (mode: Exclude<FakeMode, 'normal'>, count = 1) => {
    state.mode = mode;
    failuresLeft = count;
  };
  return Object.defineProperty(Object.assign(server, { messages, failNext }), 'mode', {
    enumerable: true,
    get: () => state.mode,
    set: (value: FakeMode) => {
      state.mode = value;
    },
  }) as TwilioFake;
}

/**
 * POSTs a status callback to `url` the way Twilio does: form-encoded, signed with the account's
 * auth token (twilio's own getExpectedTwilioSignature), with an idempotency token header.
 */
export async function postTwilioStatusCallback(
  url: string,
  authToken: string,
  params: Record<string, string>,
  options: { idempotencyToken?: string; signatureUrl?: string } = {},
): Promise<Response> {
  const signature = twilio.getExpectedTwilioSignature(authToken, options.signatureUrl ?? url, params);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'i-twilio-idempotency-token': options.idempotencyToken ?? randomBytes(16).toString('hex'),
    },
    body: new URLSearchParams(params).toString(),
  });
}
