import { describe, expect, it } from 'vitest';
import { addressBlockReason, isBlockedAddress, outboundUrlProblem } from './outbound-http.ts';
import { signStandardWebhook, signStandardWebhookWithAll } from './standard-webhooks.ts';

describe('address classifier', () => {
  it.each([
    ['0.0.0.0', true],
    ['0.1.2.3', true],
    ['10.0.0.1', true],
    ['100.64.0.1', true],
    ['100.127.255.254', true],
    ['100.100.100.200', true], // Alibaba metadata, inside CGNAT
    ['100.63.255.255', false],
    ['100.128.0.1', false],
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['169.254.0.1', true],
    ['169.254.169.254', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.15.255.255', false],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['192.0.0.192', true],
    ['192.0.2.10', true],
    ['198.18.0.1', true],
    ['224.0.0.1', true],
    ['239.255.255.250', true],
    ['240.0.0.1', true],
    ['255.255.255.255', true],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['93.184.216.34', false],
    ['::', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:169.254.169.254', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:0.0.0.0', true],
    ['::ffff:8.8.8.8', false],
    ['::127.0.0.1', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['64:ff9b::808:808', false],
    ['2002:7f00:1::1', true],
    ['2002:808:808::1', false],
    ['2001::1', true],
    ['2001:db8::1', true],
    ['fc00::1', true],
    ['fd00:ec2::254', true], // AWS IMDS over IPv6
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['fec0::1', true],
    ['ff02::1', true],
    ['100::1', true],
    ['2001:4860:4860::8888', false],
    ['2606:4700:4700::1111', false],
    ['not-an-ip', true],
    ['256.1.1.1', true],
  ])('%s blocked=%s', (ip, blocked) => {
    expect(isBlockedAddress(ip)).toBe(blocked);
  });

  it('names the metadata address', () => {
    expect(addressBlockReason('169.254.169.254')).toMatch(/metadata/);
    expect(addressBlockReason('::ffff:169.254.169.254')).toMatch(/IPv4-mapped.*metadata/);
  });
});

describe('signStandardWebhook', () => {
  it('matches the Standard Webhooks reference vector', () => {
    expect(signStandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('uses a secret without the whsec_ prefix as its UTF-8 bytes', () => {
    const a = signStandardWebhook('plain-secret', 'msg_1', 1, '{}');
    expect(a).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(signStandardWebhook('plain-secreT', 'msg_1', 1, '{}'));
    expect(a).not.toBe(signStandardWebhook('plain-secret', 'msg_1', 2, '{}'));
  });
});

describe('outboundUrlProblem (input validation of a tenant-chosen URL)', () => {
  it.each([
    ['https://hooks.example.com/x', null],
    ['http://hooks.example.com/x', /https/],
    ['https://127.0.0.1/x', /loopback/],
    ['https://[::1]/x', /loopback/],
    ['https://169.254.169.254/latest', /metadata/],
    ['https://localhost:8443/x', /loopback/],
    ['https://user:pw@hooks.example.com/x', /credentials/],
    ['not a url', /valid URL/],
  ])('%s', (url, problem) => {
    const found = outboundUrlProblem(url);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});

describe('signStandardWebhookWithAll', () => {
  it('joins one v1 signature per secret with a space', () => {
    const a = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const b = 'whsec_' + Buffer.from('another key of some length!').toString('base64');
    expect(signStandardWebhookWithAll([a, b], 'msg_1', 5, '{}')).toBe(`${signStandardWebhook(a, 'msg_1', 5, '{}')} ${signStandardWebhook(b, 'msg_1', 5, '{}')}`);
  });
});
