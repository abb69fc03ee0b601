import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import type { CliIo } from '../clients/clients.cli.ts';
import { sqlRows } from '../platform/db/database.ts';
import { users } from '../platform/db/schema.ts';
import { usersCreate, usersResetPassword } from './users.cli.ts';

describe('xlnc users', () => {
  let t: TestApp;
  let dir: string;
  const clientId = uniqueId('cli-users');

  const io = (stdin?: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIo = {
      stdout: (s) => void out.push(s),
      stderr: (s) => void err.push(s),
      env: {},
      encryptionKeys: [],
      ...(stdin !== undefined ? { readStdin: async () => stdin } : {}),
    };
    return { io: value, out, err };
  };
  const ctx = () => ({ database: t.deps.database, clientsDir: dir });
  const login = (email: string, password: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });

  beforeAll(async () => {
    dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(clientId));
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  it('creates a platform admin from --password-stdin, who can then log in', async () => {
    const email = `${uniqueId('root')}@Example.test`;
    const run = io('first-admin-password\n');
    const code = await usersCreate(['--email', email, '--role', 'platform_admin', '--password-stdin'], run.io, ctx());
    expect(code, run.err.join('')).toBe(0);
    expect(run.out.join('')).toContain(`platform_admin ${email.toLowerCase()}`);
    const res = await login(email, 'first-admin-password');
    expect(res.statusCode).toBe(200);
    expect(res.json().user.role).toBe('platform_admin');
    const audit = await sqlRows<{ actor: string; action: string }>(t.deps.database.db, sql`select actor, action from audit_log where target_id = ${res.json().user.id}`);
    expect(audit).toEqual([{ actor: 'cli', action: 'user.create' }]);
  });

  it('prompts twice on a terminal and refuses a mismatch', async () => {
    const email = `${uniqueId('tty')}@example.test`;
    const answers = ['typed-password-one', 'typed-password-two'];
    const mismatch = io();
    expect(await usersCreate(['--email', email, '--role', 'client_admin', '--client', clientId], mismatch.io, { ...ctx(), promptPassword: async () => answers.shift() ?? '' })).toBe(1);
    expect(mismatch.err.join('')).toContain('do not match');
    const ok = io();
    expect(await usersCreate(['--email', email, '--role', 'client_admin', '--client', clientId], ok.io, { ...ctx(), promptPassword: async () => 'typed-password-same' })).toBe(0);
    expect((await login(email, 'typed-password-same')).json().user).toMatchObject({ role: 'client_admin', client_id: clientId });
  });

  it('validates role, client and password, and refuses duplicates', async () => {
    const email = `${uniqueId('val')}@example.test`;
    expect(await usersCreate(['--email', email, '--role', 'root', '--password-stdin'], io('long-enough-password').io, ctx())).toBe(2);
    expect(await usersCreate(['--email', email, '--role', 'client_viewer', '--password-stdin'], io('long-enough-password').io, ctx())).toBe(2);
    expect(await usersCreate(['--email', email, '--role', 'platform_admin', '--client', clientId, '--password-stdin'], io('long-enough-password').io, ctx())).toBe(2);
    const unknown = io('long-enough-password');
    expect(await usersCreate(['--email', email, '--role', 'client_viewer', '--client', 'no-such-client', '--password-stdin'], unknown.io, ctx())).toBe(1);
    expect(unknown.err.join('')).toContain('unknown client');
    const short = io('short');
    expect(await usersCreate(['--email', email, '--role', 'client_viewer', '--client', clientId, '--password-stdin'], short.io, ctx())).toBe(1);
    expect(short.err.join('')).toContain('at least 12');
    expect(await usersCreate(['--email', email, '--role', 'client_viewer', '--client', clientId, '--password-stdin'], io('long-enough-password').io, ctx())).toBe(0);
    const dup = io('long-enough-password');
    expect(await usersCreate(['--email', email.toUpperCase(), '--role', 'client_viewer', '--client', clientId, '--password-stdin'], dup.io, ctx())).toBe(1);
    expect(dup.err.join('')).toContain('already exists');
  });

  it('reset-password sets a new password and ends existing sessions', async () => {
    const email = `${uniqueId('reset')}@example.test`;
    expect(await usersCreate(['--email', email, '--role', 'client_viewer', '--client', clientId, '--password-stdin'], io('old-password-123').io, ctx())).toBe(0);
    const session = (await login(email, 'old-password-123')).json<{ access_token: string; refresh_token: string }>();
    const refreshToken = session.refresh_token;
    const run = io('new-password-456\n');
    expect(await usersResetPassword(['--email', email, '--password-stdin'], run.io, ctx())).toBe(0);
    // The running server hears nothing from the CLI; the access token it issued is void anyway.
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${session.access_token}` } });
    expect(me.statusCode).toBe(401);
    expect(me.headers['www-authenticate']).toContain('revoked');
    expect((await login(email, 'old-password-123')).statusCode).toBe(401);
    expect((await login(email, 'new-password-456')).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: refreshToken } })).statusCode).toBe(401);
    const [row] = await t.deps.tenancy.withPlatform((tx) => tx.select().from(users).where(eq(users.email, email)));
    expect(row?.passwordHash).toMatch(/^scrypt\$/);
    const missing = io('new-password-456');
    expect(await usersResetPassword(['--email', 'nobody@example.test', '--password-stdin'], missing.io, ctx())).toBe(1);
  });
});
