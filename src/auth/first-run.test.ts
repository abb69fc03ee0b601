import { afterEach, describe, expect, it } from 'vitest';
import { bearer, loginAs } from '../../test/helpers/auth.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { TEST_DATABASE_URL } from '../../test/helpers/test-db.ts';
import { FIRST_ADMIN_HINT } from './auth.routes.ts';
import { SETUP_TOKEN_PREFIX } from './first-run.ts';

/** The token from the server's log line, as an operator would copy it. */
function tokenFromLogs(t: TestApp): string | undefined {
  const line = t.logs.find((l) => l.includes(FIRST_ADMIN_HINT));
  return line === undefined ? undefined : new RegExp(`${SETUP_TOKEN_PREFIX}[\\w-]+`).exec(line)?.[0];
}

// A fresh install needs a database without users: embedded mode gives each test app its own copy
// of the migrated template; the shared PostgreSQL of a PostgreSQL-mode run has other files' users.
describe.skipIf(TEST_DATABASE_URL !== undefined)('first-run setup', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const setup = (app: TestApp, body: Record<string, unknown>) => app.app.inject({ method: 'POST', url: '/api/auth/setup', payload: body });
  const admin = { email: 'First.Admin@Example.test', password: 'correct-horse-battery' };

  it('prints a one-time token; the right token creates the platform admin and signs them in; then setup is closed', async () => {
    t = await createTestApp();
    const token = tokenFromLogs(t);
    expect(token).toMatch(/^xst_[\w-]{32}$/);
    const logLine = t.logs.find((l) => l.includes(FIRST_ADMIN_HINT)) ?? '';
    expect(logLine).toContain('http://localhost:3000/setup');
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/setup' })).json()).toEqual({ needed: true });

    const wrong = await setup(t, { ...admin, setup_token: `${token}x` });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('unauthorized');
    const short = await setup(t, { ...admin, password: 'short', setup_token: token });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.message).toContain('password');

    const ok = await setup(t, { ...admin, setup_token: token });
    expect(ok.statusCode).toBe(201);
    const body = ok.json();
    expect(body.user).toMatchObject({ email: 'first.admin@example.test', role: 'platform_admin', client_id: null });
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(body.access_token) })).statusCode).toBe(200);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } });
    expect(login.statusCode).toBe(200);

    // Single use, and closed for good.
    const again = await setup(t, { email: 'second@example.test', password: admin.password, setup_token: token });
    expect(again.statusCode).toBe(409);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/setup' })).json()).toEqual({ needed: false });
    const audit = await t.app.inject({ method: 'GET', url: '/api/admin/audit?action=user.create', headers: bearer(body.access_token) });
    expect(audit.json().items[0]).toMatchObject({ action: 'user.create', target_id: body.user.id, actor_user_id: body.user.id });
  }, 60_000);

  it('two setups racing with the token make one admin; a user made another way closes setup', async () => {
    t = await createTestApp();
    const token = tokenFromLogs(t);
    const answers = await Promise.all([
      setup(t, { email: 'racer-1@example.test', password: admin.password, setup_token: token }),
      setup(t, { email: 'racer-2@example.test', password: admin.password, setup_token: token }),
    ]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
    await t.close();

    t = await createTestApp();
    const fresh = tokenFromLogs(t);
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(token);
    await loginAs(t, 'platform_admin');
    const late = await setup(t, { ...admin, setup_token: fresh });
    expect(late.statusCode).toBe(409);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/setup' })).json()).toEqual({ needed: false });
  }, 60_000);
});

describe('an installation with users', () => {
  it('refuses setup once a user exists', async () => {
    const t = await createTestApp();
    try {
      await loginAs(t, 'platform_admin');
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/setup', payload: { email: 'x@example.test', password: 'correct-horse-battery', setup_token: 'xst_guess' } });
      expect(res.statusCode).toBe(409);
      expect((await t.app.inject({ method: 'GET', url: '/api/auth/setup' })).json()).toEqual({ needed: false });
    } finally {
      await t.close();
    }
  });
});
