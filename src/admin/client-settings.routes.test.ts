import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { auditLog, clientConfigs } from '../platform/db/schema.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';

describe('a client admin edits their database-backed client', () => {
  let t: TestApp;
  const dbClient = uniqueId('set-db');
  const otherDb = uniqueId('set-db2');
  const fileClient = uniqueId('set-file');
  let operator: TestUser;
  let admin: TestUser;
  let viewer: TestUser;
  let otherAdmin: TestUser;

  const patch = (clientId: string, body: Record<string, unknown>, token?: string) =>
    t.app.inject({ method: 'PATCH', url: `/api/clients/${clientId}/settings`, headers: token ? bearer(token) : {}, payload: body });
  const editable = (clientId: string, token: string) => t.app.inject({ method: 'GET', url: `/api/clients/${clientId}/settings/editable`, headers: bearer(token) });

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(fileClient));
    t = await createTestApp({ clientsDir: dir });
    operator = await loginAs(t, 'platform_admin');
    for (const id of [dbClient, otherDb]) {
      const sms = { provider: 'twilio', enabled: true, account_sid: `AC${'0'.repeat(32)}`, auth_token: 'twilio_token_first_0001', from_number: '+14155550199' };
      const res = await t.app.inject({ method: 'POST', url: '/api/admin/clients', headers: bearer(operator.accessToken), payload: testClientConfig(id, { sms }) });
      expect(res.statusCode).toBe(201);
    }
    [admin, viewer, otherAdmin] = await Promise.all([loginAs(t, 'client_admin', dbClient), loginAs(t, 'client_viewer', dbClient), loginAs(t, 'client_admin', otherDb)]);
  });
  afterAll(() => t.close());

  it('changes hours, holidays, the notification address, templates and switches; validated, versioned, audited, live at once', async () => {
    const before = (await editable(dbClient, admin.accessToken)).json();
    expect(before).toMatchObject({ editable: true, source: 'db', file: null });
    const changes = {
      business_hours: { mon: ['08:00-12:00'], sat: ['10:00-14:00'] },
      holidays: ['2030-12-25'],
      notifications: { business_email: 'frontdesk@example.com' },
      templates: { sms: { followup: 'Thanks for calling {{business_name}}, we will call you back.' } },
      features: { sms_followup: false },
    };
    const res = await patch(dbClient, { version: before.version, changes }, admin.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json().version).toBe(before.version + 1);
    const config = t.deps.registry.get(dbClient)?.config;
    expect(config?.business_hours.sat).toEqual(['10:00-14:00']);
    expect(config?.holidays).toEqual(['2030-12-25']);
    expect(config?.notifications.business_email).toBe('frontdesk@example.com');
    expect(config?.features.sms_followup).toBe(false);
    expect(config?.templates?.sms?.followup).toContain('we will call you back');

    const audit = await t.app.inject({ method: 'GET', url: `/api/admin/audit?client_id=${dbClient}&action=client.update`, headers: bearer(operator.accessToken) });
    expect(audit.json().items[0]).toMatchObject({ actor_user_id: admin.id, action: 'client.update' });

    // The same schema as everywhere: the answer names the field, nothing is written.
    const bad = await patch(dbClient, { version: before.version + 1, changes: { notifications: { business_email: 'not-an-email' } } }, admin.accessToken);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('$.notifications.business_email');
    // Every problem by path, so a form shows each beside its field.
    const many = await patch(dbClient, { version: before.version + 1, changes: { notifications: { business_email: 'nope' }, business_hours: { tue: ['09:00-08:00'] }, holidays: ['2030-02-30'] } }, admin.accessToken);
    expect(many.statusCode).toBe(400);
    expect(many.json().error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['$.business_hours.tue[0]', '$.holidays[0]', '$.notifications.business_email']);
    const badHours = await patch(dbClient, { version: before.version + 1, changes: { business_hours: { mon: ['25:00-26:00'] } } }, admin.accessToken);
    expect(badHours.statusCode).toBe(400);
    expect(badHours.json().error.message).toContain('$.business_hours.mon');
    expect(t.deps.registry.get(dbClient)?.config?.notifications.business_email).toBe('frontdesk@example.com');
    // A stale version is refused.
    expect((await patch(dbClient, { version: before.version, changes: { holidays: [] } }, admin.accessToken)).statusCode).toBe(409);
    // Credentials and routing are not a client admin's to change.
    expect((await patch(dbClient, { version: before.version + 1, changes: { retell: { agent_ids: ['agent_evil'] } } }, admin.accessToken)).statusCode).toBe(400);
  });

  it('role boundaries: no token 401, a viewer 403, another client 404; a file-backed client is read-only with its file named', async () => {
    const body = { version: 1, changes: { holidays: ['2031-01-01'] } };
    expect((await patch(dbClient, body)).statusCode).toBe(401);
    expect((await patch(dbClient, body, viewer.accessToken)).statusCode).toBe(403);
    expect((await editable(dbClient, viewer.accessToken)).json()).toMatchObject({ editable: false });
    const other = await patch(dbClient, body, otherAdmin.accessToken);
    expect(other.statusCode).toBe(404);
    expect((await editable(dbClient, otherAdmin.accessToken)).statusCode).toBe(404);
    expect((await patch(otherDb, body, admin.accessToken)).statusCode).toBe(404);
    expect(t.deps.registry.get(otherDb)?.config?.holidays).toEqual([]);

    const file = await editable(fileClient, operator.accessToken);
    expect(file.json()).toMatchObject({ editable: false, source: 'file', version: null });
    expect(file.json().file).toContain(`${fileClient}.json`);
    const refused = await patch(fileClient, body, operator.accessToken);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'client_managed_by_file' });
    expect(refused.json().error.message).toContain(`${fileClient}.json`);
  });

  const storedRow = async (id: string) => (await t.deps.tenancy.withPlatform((tx) => tx.select().from(clientConfigs).where(eq(clientConfigs.id, id))))[0];

  it('refuses templates the loader would refuse (unknown variable, too many SMS segments): 400 by path, nothing written', async () => {
    const { version } = (await editable(dbClient, admin.accessToken)).json();
    const res = await patch(
      dbClient,
      { version, changes: { templates: { sms: { followup: 'Hi {{first_name}}', confirmation: `Booked for {{appointment_time}}. ${'Long text. '.repeat(60)}` } }, holidays: ['2032-01-01'] } },
      admin.accessToken,
    );
    expect(res.statusCode).toBe(400);
    const issues = res.json().error.issues as { path: string; message: string }[];
    expect(issues.find((issue) => issue.path === '$.templates.sms.followup')?.message).toContain('{{first_name}}');
    expect(issues.find((issue) => issue.path === '$.templates.sms.confirmation')?.message).toContain('segments');
    expect((await storedRow(dbClient))?.version).toBe(version);
    expect(t.deps.registry.get(dbClient)?.status).toBe('active');
    expect(t.deps.registry.get(dbClient)?.config?.holidays).not.toContain('2032-01-01');
  });

  it('replaces a stored secret write-only: sealed, never echoed or audited in clear; only secrets that exist', async () => {
    const { version } = (await editable(dbClient, admin.accessToken)).json();
    const fresh = 'key_rotated_by_operator_7731';
    const res = await patch(dbClient, { version, changes: {}, secrets: { '$.retell.api_key': fresh } }, operator.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(fresh);
    expect(t.deps.registry.get(dbClient)?.config?.retell.api_key).toBe(fresh);
    const row = await storedRow(dbClient);
    expect(JSON.stringify(row?.config)).not.toContain(fresh);
    expect((row?.config as { retell: { api_key: string } }).retell.api_key).toMatch(/^enc:v1:/);
    const settings = await t.app.inject({ method: 'GET', url: `/api/clients/${dbClient}/settings`, headers: bearer(admin.accessToken) });
    expect(settings.body).not.toContain(fresh);
    expect(settings.json().config.retell.api_key).toBe('••••7731');
    const audits = await t.deps.tenancy.withPlatform((tx) => tx.select().from(auditLog).where(eq(auditLog.clientId, dbClient)));
    const last = audits.find((entry) => JSON.stringify(entry.diff).includes('$.retell.api_key'));
    expect(last).toBeDefined();
    expect(JSON.stringify(audits)).not.toContain(fresh);

    const next = res.json().version as number;
    for (const [path, value, message] of [
      ['$.email.api_key', 'x-secret-1', 'no secret is stored here'],
      ['$.sms.auth_token', '••••0001', 'type the new secret'],
      ['$.sms.auth_token', 'env:PATH', 'plain secret'],
    ] as const) {
      const refused = await patch(dbClient, { version: next, changes: { holidays: ['2033-01-01'] }, secrets: { [path]: value } }, admin.accessToken);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.issues).toEqual([{ path, message: expect.stringContaining(message) }]);
      expect(refused.body).not.toContain('x-secret-1');
    }
    expect((await storedRow(dbClient))?.version).toBe(next);
    expect(t.deps.registry.get(dbClient)?.config?.retell.api_key).toBe(fresh);
    expect((await patch(dbClient, { version: next, changes: {}, secrets: { '$.retell.api_key': 'key_viewer_try' } }, viewer.accessToken)).statusCode).toBe(403);
    expect((await patch(dbClient, { version: next, changes: {}, secrets: { '$.retell.api_key': 'key_other_try' } }, otherAdmin.accessToken)).statusCode).toBe(404);
    expect(t.deps.registry.get(dbClient)?.config?.retell.api_key).toBe(fresh);
  });

  it("the Retell API key is a platform admin's: a client admin replaces its provider credentials, and gets a 403 naming the path for the Retell key", async () => {
    const { version, replaceable_secrets: replaceable } = (await editable(dbClient, admin.accessToken)).json();
    // What the page offers to replace, per role.
    expect(replaceable).toEqual(['$.sms.auth_token']);
    expect((await editable(dbClient, operator.accessToken)).json().replaceable_secrets).toEqual(['$.retell.api_key', '$.sms.auth_token']);
    expect((await editable(dbClient, viewer.accessToken)).json().replaceable_secrets).toEqual([]);
    const keyBefore = t.deps.registry.get(dbClient)?.config?.retell.api_key;

    const refused = await patch(dbClient, { version, changes: { holidays: ['2034-01-01'] }, secrets: { '$.retell.api_key': 'key_taken_over_by_owner', '$.sms.auth_token': 'twilio_token_owner_0002' } }, admin.accessToken);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'forbidden', issues: [{ path: '$.retell.api_key', message: expect.stringContaining('only a platform admin') }] });
    expect(refused.json().error.message).toContain('$.retell.api_key');
    expect(refused.body).not.toContain('key_taken_over_by_owner');
    // Nothing of the request was written, the allowed secret and the change included.
    expect((await storedRow(dbClient))?.version).toBe(version);
    expect(t.deps.registry.get(dbClient)?.config?.retell.api_key).toBe(keyBefore);
    const smsToken = () => {
      const sms = t.deps.registry.get(dbClient)?.config?.sms;
      return sms?.provider === 'twilio' ? sms.auth_token : undefined;
    };
    expect(smsToken()).toBe('twilio_token_first_0001');

    const own = await patch(dbClient, { version, changes: {}, secrets: { '$.sms.auth_token': 'twilio_token_owner_0002' } }, admin.accessToken);
    expect(own.statusCode).toBe(200);
    expect(smsToken()).toBe('twilio_token_owner_0002');
    expect(own.body).not.toContain('twilio_token_owner_0002');
  });

  const preview = (clientId: string, body: unknown, token?: string) =>
    t.app.inject({ method: 'POST', url: `/api/clients/${clientId}/settings/preview`, headers: token ? bearer(token) : {}, payload: body as Record<string, unknown> });

  it('previews a draft template with sample call data, by the sending renderer, writing nothing', async () => {
    const { version } = (await editable(dbClient, admin.accessToken)).json();
    const res = await preview(dbClient, { templates: { sms: { followup: 'Hi {{customer_name}}, {{business_name}} will call back.' }, email: { summary: { subject: 'Call from {{caller_phone}}' } } } }, admin.accessToken);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.sms.find((entry: { name: string }) => entry.name === 'followup')).toMatchObject({ text: `Hi Jane Roe, Test Client ${dbClient} will call back.`, encoding: 'GSM-7', segments: 1 });
    // Untouched templates preview as their industry defaults (tax preparation).
    expect(body.sms.find((entry: { name: string }) => entry.name === 'confirmation').text).toContain('Bring ID, W-2s');
    expect(body.email.find((entry: { name: string }) => entry.name === 'summary')).toMatchObject({ subject: 'Call from +14155550142' });
    expect(body.issues).toEqual([]);
    expect((await storedRow(dbClient))?.version).toBe(version);

    const unknown = await preview(dbClient, { templates: { sms: { followup: 'Hi {{nickname}}' } } }, admin.accessToken);
    expect(unknown.json().issues).toEqual([{ path: '$.templates.sms.followup', message: expect.stringContaining('{{nickname}}') }]);
    const malformed = await preview(dbClient, { templates: { sms: { followup: 5 } } }, admin.accessToken);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_payload');
    expect(malformed.json().error.message).toContain('templates');

    expect((await preview(dbClient, { templates: {} })).statusCode).toBe(401);
    expect((await preview(dbClient, { templates: {} }, viewer.accessToken)).statusCode).toBe(403);
    expect((await preview(dbClient, { templates: {} }, otherAdmin.accessToken)).statusCode).toBe(404);
    expect((await preview(fileClient, { templates: { sms: { followup: 'Hello {{customer_name}}' } } }, operator.accessToken)).json().sms[1]).toBeDefined();
  });

  it('rate-limits previews per client', async () => {
    let limited = 0;
    for (let i = 0; i < 125 && limited === 0; i += 1) {
      const res = await preview(otherDb, { templates: {} }, otherAdmin.accessToken);
      if (res.statusCode === 429) limited += 1;
      else expect(res.statusCode).toBe(200);
    }
    expect(limited).toBe(1);
  });
});
