/**
 * Fake Text180 XML API, per the assumed contract in ../shared/reference/providers.md §4.3 (there
 * are no vendor docs; the error texts are invented). `POST /members/api.php` with an `<sms>`
 * document; `<response><ok/></response>` when the auth key matches.
 */
import { sendJson, startFakeServer, type FakeMode, type FakeServer } from './http-fake.ts';

export interface FakeText180Message {
  authKey: string;
  accountId: string;
  shortCode: string;
  keyword: string;
  message: string;
  contacts: string[];
}

export interface Text180Fake extends FakeServer {
  mode: FakeMode;
  /** Send URL for client config (`sms.api_base_url`). */
  sendUrl: string;
  messages: FakeText180Message[];
}

/** Text of one element: CDATA sections joined, entities decoded. */
export function xmlElement(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  if (!match) return undefined;
  return xmlText(match[1] ?? '');
}

function xmlText(inner: string): string {
  return inner
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) =>
      part.startsWith('<![CDATA[')
        ? part.slice(9, -3)
        : part
            .replace(/&lt;/g, '<')
            .replace(/&gt;/g, '>')
            .replace(/&quot;/g, '"')
            .replace(/&apos;/g, "'")
            .replace(/&amp;/g, '&'),
    )
    .join('');
}

function xml(response: Parameters<Parameters<typeof startFakeServer>[0]>[1], status: number, body: string) {
  response.writeHead(status, { 'content-type': 'text/xml' });
  response.end(body);
}

/** @param accounts auth_key → account_id accepted by this fake. */
export async function startText180Fake(options: { accounts: Record<string, string> }): Promise<Text180Fake> {
  const messages: FakeText180Message[] = [];
  const state = { mode: 'normal' as FakeMode };
  const server = await startFakeServer((request, response) => {
    const mode = state.mode;
    if (mode === 'hang') return;
    if (mode === 'down') return xml(response, 503, 'Service Unavailable');
    if (mode === 'error') return xml(response, 500, 'Internal Server Error');
    if (mode === 'rate_limited') {
      response.setHeader('retry-after', '30');
      return xml(response, 429, '<response><error>Too many requests</error></response>');
    }
    if (request.method !== 'POST' || request.path !== '/members/api.php') return sendJson(response, 404, { error: 'not found' });
    const body = typeof request.body === 'string' ? request.body : request.rawBody;
    const authKey = xmlElement(body, 'auth_key') ?? '';
    const accountId = xmlElement(body, 'account_id') ?? '';
    if (xmlElement(body, 'command') !== 'send_message') return xml(response, 200, '<response><error>Unknown command</error></response>');
    if (options.accounts[authKey] === undefined || options.accounts[authKey] !== accountId) {
      return xml(response, 200, '<response><error>Invalid auth key</error></response>');
    }
    const contacts = Array.from(body.matchAll(/<contact_number>([\s\S]*?)<\/contact_number>/g), (match) => xmlText(match[1] ?? ''));
    if (contacts.length === 0 || contacts.some((contact) => !/^\+[1-9]\d{6,14}$/.test(contact))) {
      return xml(response, 200, '<response><error>Invalid contact number</error></response>');
    }
    messages.push({
      authKey,
      accountId,
      shortCode: xmlElement(body, 'short_code') ?? '',
      keyword: xmlElement(body, 'keyword') ?? '',
      message: xmlElement(body, 'message') ?? '',
      contacts,
    });
    xml(response, 200, '<response><ok/></response>');
  });
  return Object.defineProperty(Object.assign(server, { messages, sendUrl: `${server.url}/members/api.php` }), 'mode', {
    enumerable: true,
    get: () => state.mode,
    set: (value: FakeMode) => {
      state.mode = value;
    },
  }) as Text180Fake;
}
