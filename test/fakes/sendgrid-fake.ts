/**
 * Fake SendGrid v3 Mail Send (../shared/reference/providers.md §6): Bearer `SG.` key, 202 with
 * X-Message-Id, 200 in sandbox mode, `{"errors":[…]}` bodies for 400/401/403, 429 with the
 * X-RateLimit headers, and 503 / never-answer modes.
 */
import { randomBytes } from 'node:crypto';
import { sendJson, startFakeServer, type FakeMode, type FakeServer } from './http-fake.ts';

export interface FakeSendgridMail {
  apiKey: string;
  messageId: string;
  sandbox: boolean;
  body: Record<string, unknown>;
}

export interface SendgridFake extends FakeServer {
  mode: FakeMode;
  /** Every accepted request (202, or 200 in sandbox mode). */
  mails: FakeSendgridMail[];
}

function errors(...items: Array<{ message: string; field?: string | null }>) {
  return { errors: items.map((item) => ({ message: item.message, field: item.field ?? null, help: null })) };
}

/**
 * @param apiKeys Keys this fake accepts.
 * @param verifiedSenders When set, a `from.email` outside this list gets 403 (unverified sender).
 */
export async function startSendgridFake(options: { apiKeys: string[]; verifiedSenders?: string[] }): Promise<SendgridFake> {
  const mails: FakeSendgridMail[] = [];
  const state = { mode: 'normal' as FakeMode };
  const server = await startFakeServer((request, response) => {
    const mode = state.mode;
    const reset = String(Math.ceil(Date.now() / 1000) + 60);
    const limitHeaders = { 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': mode === 'rate_limited' ? '0' : '599', 'x-ratelimit-reset': reset };
    if (mode === 'hang') return;
    if (mode === 'down') return sendJson(response, 503, errors({ message: 'Service Unavailable' }));
    if (mode === 'error') return sendJson(response, 500, errors({ message: 'Internal Server Error' }));
    if (mode === 'rate_limited') return sendJson(response, 429, errors({ message: 'too many requests' }), limitHeaders);
    if (request.method !== 'POST' || request.path !== '/v3/mail/send') return sendJson(response, 404, errors({ message: 'not found' }));

    const apiKey = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!apiKey.startsWith('SG.') || !options.apiKeys.includes(apiKey)) {
      return sendJson(response, 401, errors({ message: 'The provided authorization grant is invalid, expired, or revoked' }), limitHeaders);
    }
    if (typeof request.body !== 'object' || request.body === null) return sendJson(response, 400, errors({ message: 'Bad Request', field: null }), limitHeaders);
    const body = request.body as {
      personalizations?: Array<{ to?: Array<{ email?: string }> }>;
      from?: { email?: string };
      subject?: string;
      content?: Array<{ type?: string; value?: string }>;
      mail_settings?: { sandbox_mode?: { enable?: unknown } };
    };
    const problems: Array<{ message: string; field: string }> = [];
    if (!body.personalizations?.[0]?.to?.[0]?.email) problems.push({ message: 'The to array is required for all personalization objects', field: 'personalizations.0.to' });
    if (!body.from?.email) problems.push({ message: 'The from object must be provided for every email send.', field: 'from' });
    if (!body.subject) problems.push({ message: 'The subject is required.', field: 'subject' });
    if (!body.content?.length) problems.push({ message: 'The content value must be a string at least one character in length.', field: 'content.0.value' });
    else if (body.content.length > 1 && body.content[0]?.type !== 'text/plain') problems.push({ message: 'The text/plain content type must be first.', field: 'content.0.type' });
    if (problems.length > 0) return sendJson(response, 400, errors(...problems), limitHeaders);
    if (options.verifiedSenders && !options.verifiedSenders.includes(body.from?.email ?? '')) {
      return sendJson(response, 403, errors({ message: 'The from address does not match a verified Sender Identity.', field: 'from' }), limitHeaders);
    }

    const sandbox = body.mail_settings?.sandbox_mode?.enable === true;
    const messageId = randomBytes(11).toString('base64url');
    mails.push({ apiKey, messageId, sandbox, body: body });
    if (sandbox) return sendJson(response, 200, undefined, limitHeaders);
    response.writeHead(202, { ...limitHeaders, 'x-message-id': messageId });
    response.end();
  });
  return Object.defineProperty(Object.assign(server, { mails }), 'mode', {
    enumerable: true,
    get: () => state.mode,
    set: (value: FakeMode) => {
      state.mode = value;
    },
  }) as SendgridFake;
}
