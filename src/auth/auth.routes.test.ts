import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expiredTokenFor, loginAs } from '../../test/helpers/auth.ts';
import { createTestApp, testClientConfig, uniqueId, writeClientFile, tempDir, type TestApp } from '../../test/helpers/test-app.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../test/helpers/test-db.ts';
import { sqlRows } from '../platform/db/database.ts';
import { createRedis } from '../platform/redis.ts';
import { FIRST_ADMIN_HINT } from './auth.routes.ts';
import { createLoginThrottle, LOGIN_FAILURES_PER_EMAIL, LOGIN_FAILURES_PER_EMAIL_AND_IP, LOGIN_FAILURES_PER_IP } from './login-throttle.ts';

describe('/api/auth', () => {
  let t: TestApp;
  const clientId = uniqueId('auth');
  let ipCounter = 0;
  /** Each test logs in from its own address, so per-IP throttling never spans tests. */
  const freshIp = () => `10.77.${Math.floor(Math.random() * 250)}.${(ipCounter += 1)}`;

  const login = (email: string, password: string, ip = freshIp()) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress: ip });
  const refresh = (token: string) => t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: token } });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) });

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(clientId));
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  it('logs in with email in any case: tokens, expiry and the user without its password hash', async () => {
    const user = await loginAs(t, 'client_admin', clientId);
    const res = await login(user.email.toUpperCase(), user.password);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, user: { id: user.id, email: user.email, role: 'client_admin', client_id: clientId } });
    expect(body.access_token.split('.')).toHaveLength(3);
    expect(body.refresh_token).toMatch(/^xrt_[\w-]{43}$/);
    expect(JSON.stringify(body)).not.toMatch(/scrypt|password/);
    expect(body.user.last_login_at).not.toBeNull();

    const who = await me(body.access_token);
    expect(who.statusCode).toBe(200);
    expect(who.json().user).toMatchObject({ id: user.id, role: 'client_admin', client_id: clientId });
  });

  it('answers wrong email, wrong password and a disabled account the same way', async () => {
    const user = await loginAs(t, 'client_viewer', clientId);
    const disabled = await loginAs(t, 'client_viewer', clientId);
    await t.deps.tenancy.withPlatform((tx) => sqlRows(tx, sql`update users set disabled = true where id = ${disabled.id}`));

    const answers = [
      await login(`nobody-${uniqueId()}@example.test`, user.password),
      await login(user.email, `${user.password}-wrong`),
      await login(disabled.email, disabled.password),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatchObject({ code: 'invalid_credentials', message: 'Invalid email or password' });
    }
  });

  it('takes about as long for an unknown email as for a wrong password (scrypt always runs)', async () => {
    const user = await loginAs(t, 'client_viewer', clientId);
    const time = async (email: string) => {
      const started = performance.now();
      await login(email, 'not-the-password-123');
      return performance.now() - started;
    };
    await time(user.email); // warm the dummy hash
    const known = Math.min(await time(user.email), await time(user.email));
    const unknown = Math.min(await time(`ghost-${uniqueId()}@example.test`), await time(`ghost-${uniqueId()}@example.test`));
    // Without the dummy hash an unknown email answers in ~1 ms against tens of ms of scrypt.
    expect(unknown).toBeGreaterThan(known * 0.4);
  });

  it(`throttles an address after ${LOGIN_FAILURES_PER_EMAIL_AND_IP} failures a minute on one account: 429 with Retry-After, even with the right password; the owner elsewhere is not locked out`, async () => {
    const user = await loginAs(t, 'client_viewer', clientId);
    const attacker = freshIp();
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL_AND_IP; i++) {
      expect((await login(user.email, 'wrong-password-xyz', attacker)).statusCode).toBe(401);
    }
    const blocked = await login(user.email, user.password, attacker);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    // The account's owner, from their own address, still gets in: failing logins in someone's name
    // does not lock them out.
    expect((await login(user.email, user.password, freshIp())).statusCode).toBe(200);
    // Another account from the attacker's address is not affected either.
    const other = await loginAs(t, 'client_viewer', clientId);
    expect((await login(other.email, other.password, attacker)).statusCode).toBe(200);
  });

  it(`throttles an account after ${LOGIN_FAILURES_PER_EMAIL} failures a minute spread over many addresses`, async () => {
    let clock = 1_000_000;
    const throttle = createLoginThrottle(undefined, () => clock);
    const email = 'target@x.test';
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) {
      expect(await throttle.retryAfterSeconds(email, `10.3.${i}.1`)).toBe(0);
      await throttle.recordFailure(email, `10.3.${i}.1`);
    }
    expect(await throttle.retryAfterSeconds(email, '10.4.0.1')).toBe(60);
    expect(await throttle.retryAfterSeconds('someone-else@x.test', '10.4.0.1')).toBe(0);
    clock += 60_000;
    expect(await throttle.retryAfterSeconds(email, '10.4.0.1')).toBe(0);
  });

  it(`throttles an IP after ${LOGIN_FAILURES_PER_IP} failures a minute, whichever emails it tries`, async () => {
    let clock = 1_000_000;
    const throttle = createLoginThrottle(undefined, () => clock);
    for (let i = 0; i < LOGIN_FAILURES_PER_IP; i++) {
      expect(await throttle.retryAfterSeconds(`e${i}@x.test`, '10.0.0.9')).toBe(0);
      await throttle.recordFailure(`e${i}@x.test`, '10.0.0.9');
    }
    expect(await throttle.retryAfterSeconds('fresh@x.test', '10.0.0.9')).toBe(60);
    expect(await throttle.retryAfterSeconds('fresh@x.test', '10.0.0.10')).toBe(0);
    clock += 60_000;
    expect(await throttle.retryAfterSeconds('fresh@x.test', '10.0.0.9')).toBe(0);
  });

  it.runIf(TEST_REDIS_URL)('throttles through Redis, shared by every instance', async () => {
    const redis = createRedis(TEST_REDIS_URL ?? '');
    try {
      const a = createLoginThrottle(redis);
      const b = createLoginThrottle(redis);
      const email = `${uniqueId()}@x.test`;
      for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL_AND_IP; i++) await (i % 2 ? a : b).recordFailure(email, '10.1.0.1');
      expect(await a.retryAfterSeconds(email, '10.1.0.1')).toBeGreaterThan(0);
      expect(await b.retryAfterSeconds(email, '10.9.9.9')).toBe(0);
      await b.clear(email, '10.1.0.1');
      expect(await a.retryAfterSeconds(email, '10.1.0.1')).toBe(0);
      for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) await (i % 2 ? a : b).recordFailure(email, `10.2.${i}.1`);
      expect(await a.retryAfterSeconds(email, '10.9.9.9')).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('rotates refresh tokens within one family', async () => {
    const user = await loginAs(t, 'client_admin', clientId);
    const first = (await login(user.email, user.password)).json();
    const second = await refresh(first.refresh_token);
    expect(second.statusCode).toBe(200);
    const pair = second.json();
    expect(pair.refresh_token).not.toBe(first.refresh_token);
    expect(pair.user.id).toBe(user.id);
    expect((await me(pair.access_token)).statusCode).toBe(200);
    const third = await refresh(pair.refresh_token);
    expect(third.statusCode).toBe(200);

    const rows = await sqlRows<{ family: number; rotated: number; stored_plain: number }>(
      t.deps.database.db,
      sql`select count(distinct family_id)::int as family, count(rotated_at)::int as rotated,
                 count(*) filter (where token_hash in (${first.refresh_token}, ${pair.refresh_token}))::int as stored_plain
            from refresh_tokens where user_id = ${user.id}`,
    );
    expect(rows[0]).toEqual({ family: 1, rotated: 2, stored_plain: 0 });
  });

  it('presenting a rotated refresh token revokes the whole family (theft detection)', async () => {
    const user = await loginAs(t, 'client_admin', clientId);
    const stolen = (await login(user.email, user.password)).json().refresh_token as string;
    const legit = (await refresh(stolen)).json().refresh_token as string;

    const replay = await refresh(stolen);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('token_reused');
    // The legitimate holder's newer token is dead too.
    const after = await refresh(legit);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('unauthorized');

    // Another login (another family) is unaffected.
    const other = (await login(user.email, user.password)).json().refresh_token as string;
    expect((await refresh(other)).statusCode).toBe(200);
  });

  it('logout revokes the family; unknown tokens are answered the same', async () => {
    const user = await loginAs(t, 'client_viewer', clientId);
    const first = (await login(user.email, user.password)).json().refresh_token as string;
    const second = (await refresh(first)).json().refresh_token as string;
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh_token: second } });
    expect(out.statusCode).toBe(204);
    expect((await refresh(second)).statusCode).toBe(401);
    const unknown = await t.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh_token: 'xrt_nothing' } });
    expect(unknown.statusCode).toBe(204);
    expect((await refresh('xrt_nothing')).json().error.code).toBe('unauthorized');
  });

  it('a disabled user can no longer refresh', async () => {
    const user = await loginAs(t, 'client_viewer', clientId);
    const token = (await login(user.email, user.password)).json().refresh_token as string;
    await t.deps.tenancy.withPlatform((tx) => sqlRows(tx, sql`update users set disabled = true where id = ${user.id}`));
    expect((await refresh(token)).statusCode).toBe(401);
  });

  it('GET /me: 401 without a token, with an expired one, alg=none or HS512, or a wrong secret', async () => {
    const user = await loginAs(t, 'client_viewer', clientId);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, role: 'platform_admin', client_id: null, typ: 'access', iat: now, exp: now + 900 };
    const { createHmac } = await import('node:crypto');
    const sign = (header: unknown, algorithm: string, secret: string) => {
      const input = `${b64(header)}.${b64(claims)}`;
      return `${input}.${createHmac(algorithm, secret).update(input).digest('base64url')}`;
    };
    const cases: [string, Record<string, string>][] = [
      ['missing', {}],
      ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['garbage', bearer('not.a.token')],
      ['expired', bearer(expiredTokenFor(t, user.auth))],
      ['alg none', bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`)],
      ['HS512', bearer(sign({ alg: 'HS512', typ: 'JWT' }, 'sha512', t.deps.config.jwtSecret))],
      ['wrong secret', bearer(sign({ alg: 'HS256', typ: 'JWT' }, 'sha256', 'another-secret-0123456789abcdef0123'))],
    ];
    for (const [name, headers] of cases) {
      const res = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers });
      expect(res.statusCode, name).toBe(401);
      expect(res.json().error.code, name).toBe('unauthorized');
    }
    const expired = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(expiredTokenFor(t, user.auth)) });
    expect(expired.headers['www-authenticate']).toContain('expired');
    expect((await me(user.accessToken)).statusCode).toBe(200);
  });

  it('sends security headers and no CORS headers when no origin is allowed', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('fresh install', () => {
  it('tells the operator how to create the first admin when there are no users; CORS answers listed origins only', async () => {
    const t = await createTestApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });
    try {
      // Embedded mode gives this file a fresh database; PostgreSQL mode shares one with the other files.
      if (!TEST_DATABASE_URL) expect(t.logs.some((line) => line.includes(FIRST_ADMIN_HINT))).toBe(true);

      const allowed = await t.app.inject({ method: 'OPTIONS', url: '/api/auth/login', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      const denied = await t.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
      expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
