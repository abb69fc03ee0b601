/**
 * The Slack-compatible webhook POST goes through the platform's SSRF guard: a client-configured
 * URL at a private or loopback address, or over plain http, is refused before anything is sent
 * (and not retried); a refused webhook (404 no_service) is not retried; a 5xx is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake } from '../../test/fakes/slack-fake.ts';
import { NoticeDeliveryError, postJsonGuarded } from './operator-notifier.ts';

describe('postJsonGuarded (alert webhooks)', () => {
  let slack: SlackFake;
  beforeAll(async () => {
    slack = await startSlackFake({ hooks: ['ok'] });
  });
  afterAll(() => slack.close());

  const failure = (promise: Promise<void>) => promise.then(() => undefined, (error: unknown) => error as NoticeDeliveryError);

  it('refuses loopback, private and plain-http URLs without sending, and does not retry them', async () => {
    for (const url of [slack.hook('ok'), 'https://10.1.2.3/services/x', 'https://169.254.169.254/latest/meta-data', `http://127.0.0.1:${new URL(slack.url).port}/services/ok`]) {
      const error = await failure(postJsonGuarded(url, { text: 'x' }, { ca: slack.ca, timeoutMs: 2000 }));
      expect(error).toBeInstanceOf(NoticeDeliveryError);
      expect(error?.retryable).toBe(false);
    }
    expect(slack.messages).toEqual([]);
  });

  it('delivers to an allowed address; a revoked hook (404) is final, a 5xx is retried', async () => {
    const allowed = { ca: slack.ca, allowAddress: (ip: string) => ip === '127.0.0.1', timeoutMs: 2000 };
    await postJsonGuarded(slack.hook('ok'), { text: 'hello' }, allowed);
    expect(slack.messages).toEqual([{ path: '/services/ok', text: 'hello' }]);
    expect((await failure(postJsonGuarded(slack.hook('revoked'), { text: 'x' }, allowed)))?.retryable).toBe(false);
    slack.mode = 'error';
    expect((await failure(postJsonGuarded(slack.hook('ok'), { text: 'x' }, allowed)))?.retryable).toBe(true);
    slack.mode = 'normal';
  });
});
