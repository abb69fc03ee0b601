import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptSecret } from '../platform/secrets.ts';
import type { ClientLoaderContext } from './client-loader.ts';
import { LEGACY_FLAT_KEYS } from './client-legacy.ts';
import { loadClientFile, loadClientsDir, mapYielding } from './client-loader.ts';

const example = JSON.parse(readFileSync(new URL('../../test/fixtures/client-canonical-example.json', import.meta.url), 'utf8'));
const legacyFixtures = new URL('../../test/fixtures/clients-legacy/', import.meta.url).pathname;

const exampleEnv = {
  SMART_TAX_NATION_RETELL_API_KEY: 'retell-secret-value-1',
  SMART_TAX_NATION_ZOHO_SECRET: 'zoho-secret-value-2',
  SMART_TAX_NATION_ZOHO_REFRESH_TOKEN: 'zoho-refresh-value-3',
  SMART_TAX_NATION_TEXT180_KEY: 'text180-secret-value-4',
  SMART_TAX_NATION_SENDGRID_KEY: 'sendgrid-secret-value-5',
};

function capturingContext(overrides: Partial<ClientLoaderContext> = {}): { ctx: ClientLoaderContext; logs: string[] } {
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  return { ctx: { env: exampleEnv, encryptionKeys: [], logger, ...overrides }, logs };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlnc-loader-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

describe('loadClientFile', () => {
  it('loads the canonical example, resolving env: secrets into a deep-frozen config', async () => {
    const file = write('smart-tax-nation.json', example);
    const { ctx } = capturingContext();
    const result = await loadClientFile(file, ctx);
    expect(result.issues).toEqual([]);
    expect(result.status).toBe('active');
    expect(result.id).toBe('smart-tax-nation');
    expect(result.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.config?.retell.api_key).toBe('retell-secret-value-1');
    expect(result.config?.calendar.provider === 'zoho' && result.config.calendar.oauth.refresh_token).toBe('zoho-refresh-value-3');
    expect(result.secretValues.sort()).toEqual(Object.values(exampleEnv).sort());
    expect(Object.isFrozen(result.config)).toBe(true);
    expect(Object.isFrozen(result.config?.retell.agent_ids)).toBe(true);
    expect(Object.isFrozen(result.config?.business_hours.fri)).toBe(true);
  });

  it('reports a file name that differs from client_id', async () => {
    const file = write('other-name.json', example);
    const result = await loadClientFile(file, capturingContext().ctx);
    expect(result.status).toBe('invalid');
    expect(result.id).toBe('other-name');
    expect(result.issues).toEqual([{ file, path: '$.client_id', message: expect.stringMatching(/other-name\.json/) as unknown }]);
  });

  it('names a missing environment variable and its path, never a value', async () => {
    const file = write('smart-tax-nation.json', example);
    const { SMART_TAX_NATION_TEXT180_KEY: _omitted, ...env } = exampleEnv;
    const result = await loadClientFile(file, capturingContext({ env }).ctx);
    expect(result.status).toBe('invalid');
    expect(result.config).toBeNull();
    expect(result.issues).toEqual([{ file, path: '$.sms.auth_key', message: 'environment variable SMART_TAX_NATION_TEXT180_KEY is not set' }]);
  });

  it('rejects literal secrets in a live client and warns (without the value) in a test client', async () => {
    const literal = 'sk_literal_value_9876';
    const live = { ...example, environment: 'live', sms: { ...example.sms, auth_key: literal } };
    const liveResult = await loadClientFile(write('smart-tax-nation.json', live), capturingContext().ctx);
    expect(liveResult.status).toBe('invalid');
    expect(liveResult.issues.map((issue) => issue.path)).toEqual(['$.sms.auth_key']);
    expect(liveResult.issues[0]?.message).toMatch(/only allowed when environment is "test"/);
    expect(JSON.stringify(liveResult.issues)).not.toContain(literal);

    const { ctx, logs } = capturingContext();
    const testResult = await loadClientFile(write('smart-tax-nation.json', { ...live, environment: 'test' }), ctx);
    expect(testResult.status).toBe('active');
    expect(testResult.config?.sms?.provider === 'text180' && testResult.config.sms.auth_key).toBe(literal);
    expect(testResult.warnings[0]).toBe('$.sms.auth_key: literal secret (allowed only because environment is "test")');
    expect(testResult.warnings.slice(1).every((warning) => warning.includes('environment "test"'))).toBe(true);
    expect(logs.join('')).toContain('$.sms.auth_key');
    expect(logs.join('')).toContain('smart-tax-nation');
    expect(logs.join('')).not.toContain(literal);
  });

  it('opens enc:v1 secrets with the configured keys', async () => {
    const key = randomBytes(32);
    const sealed = encryptSecret('sealed-sendgrid-value', key);
    const file = write('smart-tax-nation.json', { ...example, email: { ...example.email, api_key: sealed } });
    const ok = await loadClientFile(file, capturingContext({ encryptionKeys: [randomBytes(32), key] }).ctx);
    expect(ok.issues).toEqual([]);
    expect(ok.config?.email?.provider === 'sendgrid' && ok.config.email.api_key).toBe('sealed-sendgrid-value');
    expect(ok.secretValues).toContain('sealed-sendgrid-value');

    const wrong = await loadClientFile(file, capturingContext({ encryptionKeys: [randomBytes(32)] }).ctx);
    expect(wrong.issues.map((issue) => issue.path)).toEqual(['$.email.api_key']);
    expect(wrong.issues[0]?.message).toMatch(/not among the configured keys/);
  });

  it('reports invalid JSON once, with a position and without quoting the file', async () => {
    const file = write('broken.json', '{\n  "client_id": "broken",\n  "retell": { "api_key": sk_unquoted_secret }\n}');
    const result = await loadClientFile(file, capturingContext().ctx);
    expect(result.status).toBe('invalid');
    expect(result.id).toBe('broken');
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ file, path: '$', message: expect.stringMatching(/line 3, column 26/) as unknown });
    expect(result.issues[0]?.message).not.toContain('sk_unquoted');

    const truncated = await loadClientFile(write('cut.json', '{"client_id": "cut",'), capturingContext().ctx);
    expect(truncated.issues[0]?.message).toMatch(/unexpected end of input/);
    const empty = await loadClientFile(write('empty.json', ''), capturingContext().ctx);
    expect(empty.issues[0]?.message).toMatch(/empty/);
    const array = await loadClientFile(write('array.json', '[]'), capturingContext().ctx);
    expect(array.issues[0]?.message).toMatch(/JSON object/);
  });

  it('reports schema problems with paths, one per unknown key', async () => {
    const file = write('smart-tax-nation.json', { ...example, colour: 'red', limits: { max_concurent_calls: 3 } });
    const result = await loadClientFile(file, capturingContext().ctx);
    expect(result.issues.map((issue) => `${issue.path}: ${issue.message}`).sort()).toEqual([
      '$.colour: unknown key (check the spelling)',
      '$.limits.max_concurent_calls: unknown key (check the spelling)',
    ]);
  });

  it('marks a disabled client disabled, with its config', async () => {
    const result = await loadClientFile(write('smart-tax-nation.json', { ...example, status: 'disabled' }), capturingContext().ctx);
    expect(result.status).toBe('disabled');
    expect(result.config?.name).toBe('Smart Tax Nation');
  });
});

describe('legacy flat files', () => {
  const legacyEnv = {
    LEGACY_SALON_RETELL_API_KEY: 'legacy-retell',
    LEGACY_SALON_ZOHO_SECRET: 'legacy-zoho-secret',
    LEGACY_SALON_ZOHO_REFRESH_TOKEN: 'legacy-zoho-refresh',
    LEGACY_SALON_TEXT180_KEY: 'legacy-text180',
    LEGACY_SALON_SENDGRID_KEY: 'legacy-sendgrid',
  };

  it('loads the legacy fixture, normalized to the canonical shape, with an upgrade hint', async () => {
    const [result] = await loadClientsDir(legacyFixtures, capturingContext({ env: legacyEnv }).ctx);
    expect(result?.issues).toEqual([]);
    expect(result?.legacyHint).toMatch(/upgrade/);
    expect(result?.config).toMatchObject({
      client_id: 'legacy-salon',
      name: 'Bella Legacy Salon',
      environment: 'live',
      retell: { api_key: 'legacy-retell', agent_ids: ['agent_legacy_salon_01'] },
      calendar: {
        provider: 'zoho',
        data_center: 'us',
        calendar_id: 'zcal_legacy_salon',
        oauth: { client_id: '1000.LEGACYSALON', client_secret: 'legacy-zoho-secret', refresh_token: 'legacy-zoho-refresh' },
      },
      sms: { provider: 'text180', enabled: true, auth_key: 'legacy-text180', short_code: '55777', keyword: 'BELLA' },
      email: { provider: 'sendgrid', enabled: true, api_key: 'legacy-sendgrid', from: 'Bella Salon <hello@bellasalon.example>' },
      business_hours: {
        mon: ['09:00-18:00'],
        wed: ['09:00-18:00'],
        thu: ['09:00-12:00', '13:00-20:00'],
        sat: ['10:00-14:00'],
      },
    });
    expect(result?.config?.business_hours.sun).toBeUndefined();
  });

  it('names the flat keys the file uses, not the nested paths they become', async () => {
    const legacy = JSON.parse(readFileSync(join(legacyFixtures, 'legacy-salon.json'), 'utf8'));
    const file = write('legacy-salon.json', { ...legacy, text180_short_code: 'abc', sendgrid_api_key: 'literal-in-live' });
    const result = await loadClientFile(file, capturingContext({ env: legacyEnv }).ctx);
    expect(result.issues.map((issue) => issue.path)).toEqual(['$.text180_short_code']);
    expect(result.issues[0]?.message).toContain('sms.short_code in the nested format');
    const fixed = await loadClientFile(write('legacy-salon.json', { ...legacy, sendgrid_api_key: 'literal-in-live' }), capturingContext({ env: legacyEnv }).ctx);
    expect(fixed.issues).toEqual([
      { file, path: '$.sendgrid_api_key', message: expect.stringMatching(/only allowed when environment is "test".*email\.api_key in the nested format/) as unknown },
    ]);
    // A missing key is named by the flat key that would fill it.
    const { zoho_client_id: _dropped, ...withoutClientId } = legacy as Record<string, unknown>;
    const missing = await loadClientFile(write('legacy-salon.json', withoutClientId), capturingContext({ env: legacyEnv }).ctx);
    expect(missing.issues).toEqual([{ file, path: '$.zoho_client_id', message: 'required, missing (calendar.oauth.client_id in the nested format)' }]);
  });

  it('has no platform-wide Retell key: a flat file without retell_api_key is invalid, naming it', async () => {
    const legacy = JSON.parse(readFileSync(join(legacyFixtures, 'legacy-salon.json'), 'utf8'));
    const { retell_api_key: _dropped, ...withoutKey } = legacy as Record<string, unknown>;
    const file = write('legacy-salon.json', withoutKey);
    const result = await loadClientFile(file, capturingContext({ env: { ...legacyEnv, RETELL_API_KEY: 'a-shared-key' } }).ctx);
    expect(result.status).toBe('invalid');
    expect(result.issues).toEqual([{ file, path: '$.retell_api_key', message: 'required, missing (retell.api_key in the nested format)' }]);
  });

  it('refuses an unknown flat key as the nested format does, and warns about flat keys that do not apply', async () => {
    const legacy = JSON.parse(readFileSync(join(legacyFixtures, 'legacy-salon.json'), 'utf8'));
    const file = write('legacy-salon.json', { ...legacy, sms_enabeld: false, twilio_auth_token: 'env:UNUSED' });
    const result = await loadClientFile(file, capturingContext({ env: legacyEnv }).ctx);
    expect(result.status).toBe('invalid');
    expect(result.issues).toEqual([{ file, path: '$.sms_enabeld', message: 'unknown key (check the spelling)' }]);
    const nested = await loadClientFile(write('smart-tax-nation.json', { ...example, sms: { ...example.sms, enabeld: false } }), capturingContext().ctx);
    expect(nested.issues).toEqual([{ file: join(dir, 'smart-tax-nation.json'), path: '$.sms.enabeld', message: 'unknown key (check the spelling)' }]);
    const inapplicable = await loadClientFile(write('legacy-salon.json', { ...legacy, twilio_auth_token: 'env:UNUSED' }), capturingContext({ env: legacyEnv }).ctx);
    expect(inapplicable.status).toBe('active');
    expect(inapplicable.warnings).toContain("$.twilio_auth_token: does not apply to this client's providers, ignored");
  });

  it('the README lists every flat key', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### The flat (legacy) format'));
    const missing = Object.keys(LEGACY_FLAT_KEYS).filter((key) => !section.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });
});

describe('loadClientsDir', () => {
  it('loads every *.json (not dotfiles), sorted, one broken file not affecting the others', async () => {
    write('smart-tax-nation.json', example);
    write('zeta.json', '{ nope');
    write('.editor-backup.json', '{}');
    write('notes.txt', 'ignored');
    const results = await loadClientsDir(dir, capturingContext().ctx);
    expect(results.map((result) => [result.id, result.status])).toEqual([
      ['smart-tax-nation', 'active'],
      ['zeta', 'invalid'],
    ]);
  });

  it('loads 1,000 files well under 3 s', async () => {
    for (let i = 0; i < 1000; i += 1) {
      const id = `client-${String(i).padStart(4, '0')}`;
      write(`${id}.json`, { ...example, client_id: id });
    }
    const started = performance.now();
    const results = await loadClientsDir(dir, capturingContext().ctx);
    const elapsed = performance.now() - started;
    expect(results.filter((result) => result.status === 'active')).toHaveLength(1000);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('mapYielding', () => {
  /** Keeps the thread busy for `ms`, as a slow stat would. */
  const spin = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };

  /** Runs a 2 ms timer beside the map and returns the longest gap between its ticks. */
  async function longestTimerGap(run: () => Promise<unknown>): Promise<number> {
    let last = performance.now();
    let longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 2);
    await run();
    clearInterval(timer);
    return longest;
  }

  it('keeps order and results, and lets timers run between slices', async () => {
    const items = Array.from({ length: 150 }, (_, i) => i);
    let results: number[] = [];
    const gap = await longestTimerGap(async () => {
      results = await mapYielding(items, (i) => {
        spin(1);
        return i * 2;
      });
    });
    expect(results).toEqual(items.map((i) => i * 2));
    expect(gap).toBeLessThan(100); // flat out: a turn every ~4 ms, never the 150 ms of work in one go
  });

  it('rests between slices when paced, so a background scan takes a small share of the thread', async () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const started = performance.now();
    await mapYielding(items, () => spin(1), { sliceMs: 2, restMs: 10 });
    const elapsed = performance.now() - started;
    // 20 ms of work in slices of ~3 items, each followed by a 10 ms rest: well over twice the work.
    expect(elapsed).toBeGreaterThan(50);
  });
});
