import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs, type TestUser } from '../../test/helpers/auth.ts';
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
      const res = await t.app.inject({ method: 'POST', url: '/api/admin/clients', headers: bearer(operator.accessToken), payload: testClientConfig(id) });
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
});
