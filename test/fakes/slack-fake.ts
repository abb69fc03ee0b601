/**
 * Fake Slack incoming webhook (https://api.slack.com/messaging/webhooks): POST a JSON body with
 * `text` to the webhook's path; answers 200 `ok` (text/plain), 400 `invalid_payload` without text,
 * 404 `no_service` for a path it does not know (a revoked or mistyped webhook), 403
 * `action_prohibited` when the hook is disabled, and 500 in `error` mode.
 */
import { startFakeServer, type FakeServer } from './http-fake.ts';

export interface SlackFake extends FakeServer {
  mode: 'normal' | 'error' | 'disabled';
  /** The texts each webhook path accepted, in order. */
  messages: { path: string; text: string }[];
  /** The full URL of one of its webhooks. */
  hook(name: string): string;
}

export async function startSlackFake(options: { hooks: string[] }): Promise<SlackFake> {
  const known = new Set(options.hooks.map((name) => `/services/${name}`));
  const messages: { path: string; text: string }[] = [];
  const fake: Partial<SlackFake> = { mode: 'normal', messages };
  const server = await startFakeServer((request, response) => {
    const text = (status: number, body: string) => {
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(body);
    };
    if (request.method !== 'POST') return text(405, 'invalid_method');
    if (!known.has(request.path)) return text(404, 'no_service');
    if (fake.mode === 'error') return text(500, 'rollup_error');
    if (fake.mode === 'disabled') return text(403, 'action_prohibited');
    const body = request.body as { text?: unknown } | undefined;
    if (!body || typeof body !== 'object' || typeof body.text !== 'string' || body.text === '') return text(400, 'invalid_payload');
    messages.push({ path: request.path, text: body.text });
    return text(200, 'ok');
  });
  return Object.assign(fake, server, { hook: (name: string) => `${server.url}/services/${name}` }) as SlackFake;
}
