import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientRegistry, ClientRegistryOptions, ReloadSignal } from './client-registry.ts';
import { createClientRegistry } from './client-registry.ts';

const example = JSON.parse(readFileSync(new URL('../../test/fixtures/client-canonical-example.json', import.meta.url), 'utf8'));

/** A valid client using env: secrets that `env` below provides. */
function clientFile(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...example, client_id: id, name: `Client ${id}`, ...overrides };
}

const env = {
  SMART_TAX_NATION_RETELL_API_KEY: 'retell-secret-value-1',
  SMART_TAX_NATION_ZOHO_SECRET: 'zoho-secret-value-2',
  SMART_TAX_NATION_ZOHO_REFRESH_TOKEN: 'zoho-refresh-value-3',
  SMART_TAX_NATION_TEXT180_KEY: 'text180-secret-value-4',
  SMART_TAX_NATION_SENDGRID_KEY: 'sendgrid-secret-value-5',
};

let dir: string;
let logs: string[];
const registries: ClientRegistry[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlnc-registry-'));
  logs = [];
});
afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.close()));
  rmSync(dir, { recursive: true, force: true });
});

function write(id: string, content: unknown): void {
  writeFileSync(join(dir, `${id}.json`), typeof content === 'string' ? content : JSON.stringify(content));
}

function makeRegistry(overrides: Partial<ClientRegistryOptions> = {}): ClientRegistry {
  const registry = createClientRegistry({
    dir,
    env,
    encryptionKeys: [],
    strict: false,
    logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) }),
    pollIntervalMs: 50,
    ...overrides,
  });
  registries.push(registry);
  return registry;
}

async function eventually(check: () => boolean, timeoutMs = 2000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe('createClientRegistry', () => {
  it('keeps serving valid clients when one file is broken, marking it invalid with its issues', async () => {
    write('alpha', clientFile('alpha'));
    write('beta', clientFile('beta', { timezone: 'Nowhere/Special' }));
    write('gamma', '{ "client_id": ');
    const registry = makeRegistry();
    await registry.start();

    expect(registry.get('alpha')?.status).toBe('active');
    expect(registry.get('alpha')?.config?.retell.api_key).toBe('retell-secret-value-1');
    expect(registry.get('beta')).toMatchObject({ status: 'invalid', config: null, source: 'file' });
    expect(registry.get('beta')?.issues.map((issue) => issue.path)).toEqual(['$.timezone']);
    expect(registry.get('gamma')?.status).toBe('invalid');
    expect(registry.get('nope')).toBeUndefined();
    expect(registry.countsByStatus()).toEqual({ active: 1, disabled: 0, invalid: 2 });
    expect(registry.list().map((record) => record.id)).toEqual(['alpha', 'beta', 'gamma']);

    const output = logs.join('');
    expect(output).toContain('client config invalid');
    expect(output).toContain('$.timezone');
    for (const secret of Object.values(env)) expect(output).not.toContain(secret);
  });

  it('throws in strict mode, listing every issue of every file', async () => {
    write('alpha', clientFile('alpha'));
    write('beta', clientFile('beta', { timezone: 'Nowhere/Special', holidays: ['someday'] }));
    write('gamma', clientFile('other-id'));
    const registry = makeRegistry({ strict: true });
    const error = await registry.start().then(
      () => null,
      (reason: unknown) => reason as Error,
    );
    expect(error?.message).toMatch(/3 client config issue/);
    expect(error?.message).toContain(`${join(dir, 'beta.json')}: $.timezone: `);
    expect(error?.message).toContain(`${join(dir, 'beta.json')}: $.holidays[0]: `);
    expect(error?.message).toContain(`${join(dir, 'gamma.json')}: $.client_id: `);
  });

  it('resolves a new file within 2 s without a restart, and stops resolving a deleted one', async () => {
    write('alpha', clientFile('alpha'));
    const registry = makeRegistry();
    const changes: unknown[] = [];
    registry.onChange((change) => changes.push(change));
    await registry.start();

    write('delta', clientFile('delta'));
    await eventually(() => registry.get('delta')?.status === 'active');

    unlinkSync(join(dir, 'delta.json'));
    await eventually(() => registry.get('delta') === undefined);
    expect(registry.get('alpha')?.status).toBe('active');
    expect(changes).toEqual([
      { added: ['delta'], updated: [], removed: [] },
      { added: [], updated: [], removed: ['delta'] },
    ]);
  });

  it('picks up changes from fs.watch alone (no polling)', async () => {
    const registry = makeRegistry({ pollIntervalMs: 0 });
    await registry.start();
    write('alpha', clientFile('alpha'));
    await eventually(() => registry.get('alpha')?.status === 'active');
  });

  it('picks up changes by polling alone (no watcher events)', async () => {
    write('alpha', clientFile('alpha'));
    const registry = makeRegistry({ pollIntervalMs: 30, watch: false });
    await registry.start();
    write('alpha', clientFile('alpha', { name: 'Renamed' }));
    await eventually(() => registry.get('alpha')?.config?.name === 'Renamed');
  });

  it('leaves a record held by an in-flight request unchanged after a reload', async () => {
    write('alpha', clientFile('alpha'));
    const registry = makeRegistry({ pollIntervalMs: 0, watch: false });
    await registry.start();
    const held = registry.get('alpha');
    const heldHash = held?.configHash;

    write('alpha', clientFile('alpha', { name: 'Alpha v2', status: 'disabled' }));
    const summary = await registry.reload();
    expect(summary.updated).toEqual(['alpha']);

    expect(held?.config?.name).toBe('Client alpha');
    expect(held?.status).toBe('active');
    expect(held?.configHash).toBe(heldHash);
    expect(Object.isFrozen(held)).toBe(true);
    expect(Object.isFrozen(held?.config)).toBe(true);
    expect(registry.get('alpha')?.config?.name).toBe('Alpha v2');
    expect(registry.get('alpha')?.status).toBe('disabled');
  });

  it('does not report unchanged files on reload', async () => {
    write('alpha', clientFile('alpha'));
    const registry = makeRegistry({ pollIntervalMs: 0, watch: false });
    await registry.start();
    const first = registry.get('alpha');
    write('alpha', clientFile('alpha')); // same bytes, new mtime
    expect(await registry.reload()).toMatchObject({ added: [], updated: [], removed: [] });
    expect(registry.get('alpha')).toBe(first);
  });

  it('logs literal-secret warnings by path, once per change, never the value', async () => {
    const literal = 'key_literal_registry_test_0001';
    write('alpha', clientFile('alpha', { environment: 'test', retell: { ...example.retell, api_key: literal } }));
    const registry = makeRegistry({ pollIntervalMs: 0, watch: false });
    await registry.start();
    await registry.reload(); // re-reads the just-written (racy) file; same bytes, so no new warning
    const warnings = logs.filter((line) => line.includes('literal secret'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('$.retell.api_key');
    expect(warnings[0]).toContain('alpha');
    expect(logs.join('')).not.toContain(literal);
  });

  it('hands every resolved secret to onSecret once', async () => {
    write('alpha', clientFile('alpha'));
    write('beta', clientFile('beta'));
    const seen: string[] = [];
    const registry = makeRegistry({ onSecret: (value) => seen.push(value) });
    await registry.start();
    expect(seen.sort()).toEqual(Object.values(env).sort());
  });

  it('logs a legacy upgrade hint once per client', async () => {
    const legacy = readFileSync(new URL('../../test/fixtures/clients-legacy/legacy-salon.json', import.meta.url), 'utf8');
    writeFileSync(join(dir, 'legacy-salon.json'), legacy);
    const registry = makeRegistry({
      pollIntervalMs: 0,
      watch: false,
      env: {
        LEGACY_SALON_RETELL_API_KEY: 'r',
        LEGACY_SALON_ZOHO_SECRET: 'zs',
        LEGACY_SALON_ZOHO_REFRESH_TOKEN: 'zr',
        LEGACY_SALON_TEXT180_KEY: 't',
        LEGACY_SALON_SENDGRID_KEY: 's',
      },
    });
    await registry.start();
    expect(registry.get('legacy-salon')?.status).toBe('active');
    writeFileSync(join(dir, 'legacy-salon.json'), legacy.replace('Bella Legacy Salon', 'Bella Salon'));
    await registry.reload();
    expect(registry.get('legacy-salon')?.config?.name).toBe('Bella Salon');
    expect(logs.filter((line) => line.includes('flat legacy format'))).toHaveLength(1);
  });

  it('serves external (database) clients, rejecting ids that a file already defines', async () => {
    write('alpha', clientFile('alpha'));
    const registry = makeRegistry({ pollIntervalMs: 0, watch: false });
    await registry.start();
    const fileRecord = registry.get('alpha');
    const base = { source: 'db' as const, status: 'active' as const, config: fileRecord?.config ?? null, issues: [], configHash: 'db', loadedAt: new Date() };

    expect(registry.upsertExternal({ ...base, id: 'from-db' })).toEqual({ accepted: true });
    expect(registry.get('from-db')?.source).toBe('db');
    const clash = registry.upsertExternal({ ...base, id: 'alpha' });
    expect(clash.accepted).toBe(false);
    expect(!clash.accepted && clash.issues[0]?.message).toMatch(/already defined by a config file/);
    expect(registry.get('alpha')).toBe(fileRecord);
    expect(registry.countsByStatus().active).toBe(2);

    expect(registry.removeExternal('from-db')).toBe(true);
    expect(registry.get('from-db')).toBeUndefined();
  });

  it('gives a custom host to one client: a second file naming it is refused with an issue naming both, until the first lets it go', async () => {
    const branded = (host: string) => ({ branding: { display_name: 'Bright Smile', custom_host: host } });
    write('zeta', clientFile('zeta', branded('Portal.BrightSmile.test')));
    write('beta', clientFile('beta', branded('portal.brightsmile.test')));
    write('plain', clientFile('plain'));
    const registry = makeRegistry({ pollIntervalMs: 0, watch: false });
    await registry.start();

    // At start the id that sorts first keeps it; the host is compared lowercased.
    expect(registry.get('beta')?.status).toBe('active');
    expect(registry.byCustomHost('portal.brightsmile.test')?.id).toBe('beta');
    expect(registry.get('zeta')).toMatchObject({ status: 'invalid', config: null });
    expect(registry.get('zeta')?.issues).toEqual([
      {
        file: expect.stringContaining('zeta.json'),
        path: '$.branding.custom_host',
        message: 'custom host portal.brightsmile.test is already used by client "beta"; clients "beta" and "zeta" cannot share it',
      },
    ]);
    expect(registry.byCustomHost('plain.example')).toBeUndefined();

    // An incumbent keeps its host when a newcomer that sorts first claims it too.
    write('alpha', clientFile('alpha', branded('portal.brightsmile.test')));
    await registry.reload();
    expect(registry.byCustomHost('portal.brightsmile.test')?.id).toBe('beta');
    expect(registry.get('alpha')?.status).toBe('invalid');

    const changes: string[][] = [];
    registry.onChange((change) => changes.push(change.updated));
    write('beta', clientFile('beta'));
    write('alpha', clientFile('alpha'));
    await registry.reload();
    expect(registry.byCustomHost('portal.brightsmile.test')?.id).toBe('zeta');
    expect(registry.get('zeta')?.status).toBe('active');
    expect(changes.at(-1)).toEqual(['alpha', 'beta', 'zeta']);

    // A database client naming a file client's host is refused; one with a free host is served by it.
    const config = registry.get('plain')?.config ?? null;
    const base = { source: 'db' as const, status: 'active' as const, issues: [], configHash: 'db', loadedAt: new Date() };
    const withHost = (host: string) => (config === null ? null : { ...config, branding: { custom_host: host } });
    const refused = registry.upsertExternal({ ...base, id: 'from-db', config: withHost('portal.brightsmile.test') });
    expect(refused.accepted).toBe(false);
    expect(!refused.accepted && refused.issues.at(-1)?.message).toBe(
      'custom host portal.brightsmile.test is already used by client "zeta"; clients "zeta" and "from-db" cannot share it',
    );
    expect(registry.get('from-db')?.status).toBe('invalid');
    expect(registry.upsertExternal({ ...base, id: 'from-db', config: withHost('book.example.com') })).toEqual({ accepted: true });
    expect(registry.byCustomHost('book.example.com')?.id).toBe('from-db');

    // A file that then names the database client's host is the newcomer, and is refused until the database client goes.
    write('zeta', clientFile('zeta', branded('book.example.com')));
    await registry.reload();
    expect(registry.get('zeta')?.status).toBe('invalid');
    expect(registry.byCustomHost('book.example.com')?.id).toBe('from-db');
    registry.removeExternal('from-db');
    expect(registry.get('zeta')?.status).toBe('active');
    expect(registry.byCustomHost('book.example.com')?.id).toBe('zeta');
  });

  it('publishes a reload signal after local changes and reloads when a signal arrives', async () => {
    let published = 0;
    let deliver: (() => void) | undefined;
    let unsubscribed = false;
    const signal: ReloadSignal = {
      publish: () => {
        published += 1;
        return Promise.resolve();
      },
      subscribe: (onSignal) => {
        deliver = onSignal;
        return Promise.resolve(() => {
          unsubscribed = true;
          return Promise.resolve();
        });
      },
    };
    write('alpha', clientFile('alpha'));
    const registry = makeRegistry({ signal, pollIntervalMs: 0, watch: false });
    await registry.start();
    const afterStart = published;

    write('beta', clientFile('beta'));
    await registry.reload();
    expect(published).toBe(afterStart + 1);

    // Another instance changed a file: here, as if our watcher had missed it.
    write('gamma', clientFile('gamma'));
    deliver?.();
    await eventually(() => registry.get('gamma') !== undefined);
    expect(published).toBe(afterStart + 1); // a signal-driven reload does not echo the signal

    await registry.close();
    expect(unsubscribed).toBe(true);
  });
});
