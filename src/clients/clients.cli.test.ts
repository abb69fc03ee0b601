import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { decryptSecret } from '../platform/secrets.ts';
import type { CliIo } from './clients.cli.ts';
import { clientsList, clientsSchema, clientsValidate, secretsEncrypt, secretsWebhook } from './clients.cli.ts';

const shipped = readFileSync(new URL('../../config/clients/smart-tax-nation.json', import.meta.url), 'utf8');
const example = JSON.parse(readFileSync(new URL('../../test/fixtures/client-canonical-example.json', import.meta.url), 'utf8'));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlnc-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function fakeIo(overrides: Partial<CliIo> = {}): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    env: {},
    encryptionKeys: [],
    ...overrides,
    out: () => out,
    err: () => err,
  };
}

describe('xlnc clients validate', () => {
  it('exits 0 for the shipped example, printing literal-secret warnings', async () => {
    writeFileSync(join(dir, 'smart-tax-nation.json'), shipped);
    const io = fakeIo();
    expect(await clientsValidate([dir], io)).toBe(0);
    expect(io.out()).toContain(`${join(dir, 'smart-tax-nation.json')}: warning: $.retell.api_key: literal secret`);
    expect(io.out()).toContain('1 client file(s)');
    expect(io.out()).toContain('1 valid, 0 invalid');
    expect(io.out()).not.toContain('key_test_smart_tax_nation_0001');
  });

  it('prints file: path: message for every issue and exits 1', async () => {
    writeFileSync(join(dir, 'smart-tax-nation.json'), shipped);
    writeFileSync(join(dir, 'bad-one.json'), JSON.stringify({ ...example, client_id: 'bad-one', timezone: 'Moon/Base', holidays: ['x'] }));
    writeFileSync(join(dir, 'bad-two.json'), '{ "client_id": "bad-two", }');
    const io = fakeIo();
    expect(await clientsValidate([dir], io)).toBe(1);
    const lines = io.out().split('\n');
    expect(lines).toContain(`${join(dir, 'bad-one.json')}: $.timezone: must be an IANA time zone like America/New_York`);
    expect(lines.some((line) => line.startsWith(`${join(dir, 'bad-one.json')}: $.holidays[0]: `))).toBe(true);
    expect(lines.some((line) => line.startsWith(`${join(dir, 'bad-two.json')}: $: invalid JSON`))).toBe(true);
    expect(io.out()).toContain('3 client file(s)');
    expect(io.out()).toContain('1 valid, 2 invalid (3 issue(s))');
  });

  it('fails on a missing env var, naming it', async () => {
    writeFileSync(join(dir, 'smart-tax-nation.json'), JSON.stringify(example));
    const io = fakeIo();
    expect(await clientsValidate([dir], io)).toBe(1);
    expect(io.out()).toContain('$.retell.api_key: environment variable SMART_TAX_NATION_RETELL_API_KEY is not set');
  });

  it('exits 1 when the directory does not exist', async () => {
    const io = fakeIo();
    expect(await clientsValidate([join(dir, 'missing')], io)).toBe(1);
    expect(io.err()).toMatch(/cannot read clients directory .*ENOENT/);
  });
});

describe('xlnc clients list', () => {
  it('prints a table with status, source, environment and issue count', async () => {
    writeFileSync(join(dir, 'smart-tax-nation.json'), shipped);
    writeFileSync(join(dir, 'broken.json'), '{');
    const io = fakeIo();
    expect(await clientsList([dir], io)).toBe(0);
    const [header, ...rows] = io.out().trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual(['ID', 'STATUS', 'SOURCE', 'ENVIRONMENT', 'NAME', 'ISSUES']);
    expect(rows[0]?.split(/\s{2,}/)).toEqual(['broken', 'invalid', 'file', '-', '-', '1']);
    expect(rows[1]?.split(/\s{2,}/)).toEqual(['smart-tax-nation', 'active', 'file', 'test', 'Smart Tax Nation', '0']);
  });
});

describe('xlnc clients schema', () => {
  it('writes the JSON Schema and prints its path', async () => {
    const out = join(dir, 'nested', 'client.schema.json');
    const io = fakeIo();
    expect(await clientsSchema([out], io)).toBe(0);
    expect(io.out()).toBe(`${out}\n`);
    const schema = JSON.parse(readFileSync(out, 'utf8'));
    expect(schema.properties.client_id.pattern).toBe('^[a-z0-9][a-z0-9-]{1,62}$');
    expect(schema.properties.calendar.oneOf).toHaveLength(2);
  });
});

describe('xlnc secrets encrypt', () => {
  const key = randomBytes(32);

  it('seals --value and stdin input (dropping the trailing newline)', async () => {
    const io = fakeIo({ encryptionKeys: [key] });
    expect(await secretsEncrypt(['--value', 'sk_one'], io)).toBe(0);
    expect(decryptSecret(io.out().trim(), key)).toBe('sk_one');

    const piped = fakeIo({ encryptionKeys: [key], readStdin: () => Promise.resolve('sk_two\n') });
    expect(await secretsEncrypt([], piped)).toBe(0);
    expect(decryptSecret(piped.out().trim(), [key])).toBe('sk_two');
  });

  it('refuses without ENCRYPTION_KEY or with an empty secret', async () => {
    const noKey = fakeIo();
    expect(await secretsEncrypt(['--value', 'x'], noKey)).toBe(1);
    expect(noKey.err()).toMatch(/ENCRYPTION_KEY is not set/);
    const empty = fakeIo({ encryptionKeys: [key], readStdin: () => Promise.resolve('\n') });
    expect(await secretsEncrypt([], empty)).toBe(1);
  });
});

describe('xlnc secrets webhook (issue 11, finding 9)', () => {
  it('prints a new whsec_ secret that the standardwebhooks library loads; --seal adds it sealed', async () => {
    const io = fakeIo();
    expect(await secretsWebhook([], io)).toBe(0);
    const secret = io.out().trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(() => new Webhook(secret)).not.toThrow();

    const key = randomBytes(32);
    const sealed = fakeIo({ encryptionKeys: [key] });
    expect(await secretsWebhook(['--seal'], sealed)).toBe(0);
    const [plain, enc] = sealed.out().trim().split('\n');
    expect(plain).toMatch(/^whsec_/);
    expect(decryptSecret(enc!, key)).toBe(plain);
    expect(await secretsWebhook(['--seal'], fakeIo())).toBe(1);
  });
});
