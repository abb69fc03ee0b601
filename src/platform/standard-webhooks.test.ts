import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signStandardWebhook, STANDARD_WEBHOOK_SECRET } from './standard-webhooks.ts';

describe('signing secrets in the Standard Webhooks form (issue 11, finding 9)', () => {
  it('a generated secret is whsec_ + base64 of 32 bytes, new each time', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(STANDARD_WEBHOOK_SECRET);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it('the official standardwebhooks library verifies our signature with its default setup', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ name: 'order_status', args: { order_id: 'A-1' } });
    const id = 'msg_2mXfW9zWkJ3';
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(secret, id, timestamp, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    // Why the form matters: a free-form secret cannot even be loaded by the library's default.
    expect(() => new Webhook('my plain secret!')).toThrow();
    expect('my plain secret!').not.toMatch(STANDARD_WEBHOOK_SECRET);
  });
});
