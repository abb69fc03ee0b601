/**
 * `xlnc onboard --from answers.json` as an operator runs it, against the running embedded server
 * and a local fake of Retell's management API: checks, provisioning and the client file in one
 * step; then a simulated call to the new client works without restarting the server, and
 * `xlnc clients doctor` reports a drift introduced on the fake. Also `clients disable|enable`, and
 * `--store db`: saved through the admin service into the embedded database the server holds, and
 * served by that server without a restart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedAccessUrl, readEmbeddedAccess } from '../../src/platform/db/embedded-access.ts';
import { startRetellFake, type RetellFake } from '../fakes/retell-fake.ts';
import { exited, freePort, runXlnc, serverUp, startServer } from '../helpers/processes.ts';
import { migratedDataDir, tempDir, uniqueId } from '../helpers/test-app.ts';

describe('xlnc onboard against the running server', () => {
  const clientId = uniqueId('onb');
  const agentId = `agent_${clientId.replaceAll('-', '')}`;
  const apiKey = `key_${clientId.replaceAll('-', '_')}_secret`;
  const dataDir = migratedDataDir('onb-data-');
  const clientsDir = tempDir('onb-clients-');
  const commandEnv = { DATA_DIR: dataDir, CLIENTS_DIR: clientsDir };
  let port = 0;
  let server: ReturnType<typeof startServer>;
  let retell: RetellFake;
  const dbClientId = uniqueId('onbdb');
  const dbAgentId = `agent_${dbClientId.replaceAll('-', '')}`;
  const dbApiKey = `key_${dbClientId.replaceAll('-', '_')}_secret`;

  beforeAll(async () => {
    retell = await startRetellFake();
    retell.addWorkspace({ apiKey, agents: [{ agent_id: agentId }], numbers: [{ phone_number: '+13105550142', agent_id: agentId }] });
    retell.addWorkspace({ apiKey: dbApiKey, agents: [{ agent_id: dbAgentId }], numbers: [{ phone_number: '+13105550143', agent_id: dbAgentId }] });
    port = await freePort();
    server = startServer({ PORT: String(port), DATA_DIR: dataDir, CLIENTS_DIR: clientsDir });
    // A loaded machine (CI, several engineers) can take a minute and more to start the server.
    await serverUp(server.child, `http://127.0.0.1:${port}/health`, 120_000);
  }, 150_000);
  afterAll(async () => {
    server.child.kill('SIGKILL');
    await exited(server.child);
    await retell.close();
  });

  it('onboards from an answers file in under 60 s, and a simulated call to the new client works without a restart', async () => {
    const answersFile = join(tempDir('onb-answers-'), 'answers.json');
    writeFileSync(
      answersFile,
      JSON.stringify({
        client_id: clientId,
        name: 'Harbor Physio',
        environment: 'test',
        industry: 'medical',
        timezone: 'America/Los_Angeles',
        business_hours: { mon: ['08:00-18:00'], tue: ['08:00-18:00'], wed: ['08:00-18:00'], thu: ['08:00-18:00'], fri: ['08:00-18:00'], sat: ['09:00-13:00'], sun: ['09:00-13:00'] },
        retell: { api_key: apiKey, agent_ids: [agentId], phone_numbers: ['+13105550142'], api_base_url: retell.url },
        calendar: { provider: 'internal' },
      }),
    );
    const started = Date.now();
    const run = await runXlnc(['onboard', '--from', answersFile], commandEnv);
    const elapsed = Date.now() - started;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Under 60 s of machine time (the command's own CPU figure, answers read to client file written),
    // as for --store db below: the wall clock is what a loaded machine (CI, several engineers) makes it.
    const [, ownMs, cpuMs] = /\((\d+) ms, (\d+) ms CPU\)\s*$/.exec(run.stdout) ?? [];
    expect(Number(cpuMs)).toBeLessThan(60_000);
    console.log(`xlnc onboard (file): ${cpuMs} ms CPU, ${ownMs} ms wall clock from answers to client file (${elapsed} ms with Node's start-up)`);
    expect(run.stdout).toContain('  PASS  Retell API key: accepted by Retell');
    expect(run.stdout).toContain(`  PASS  Retell agent ${agentId}`);
    expect(run.stdout).toMatch(new RegExp(`Client ${clientId} is onboarded \\(.*${clientId}\\.json\\)`));
    expect(run.stdout).toContain(`Webhook URL (agent and inbound): http://localhost:${port}/api/webhooks/retell/${clientId}`);
    expect(run.stdout).toContain(`npx xlnc simulate-call --client ${clientId} --scenario booked`);
    expect(retell.workspace(apiKey).agents.get(agentId)?.webhook_url).toBe(`http://localhost:${port}/api/webhooks/retell/${clientId}`);
    // The secret was sealed with the server's key (a test client could keep it literal, but need not).
    const file = readFileSync(join(clientsDir, `${clientId}.json`), 'utf8');
    expect(file).not.toContain(apiKey);

    // The server picks the file up within 2 s: no restart.
    let call = await runXlnc(['simulate-call', '--client', clientId, '--scenario', 'booked'], commandEnv);
    for (let attempt = 0; attempt < 5 && call.code !== 0; attempt++) {
      await new Promise((r) => setTimeout(r, 1000));
      call = await runXlnc(['simulate-call', '--client', clientId, '--scenario', 'booked'], commandEnv);
    }
    expect(call.code, call.stdout + call.stderr).toBe(0);
    expect(call.stdout).toMatch(/^200 {2}function book_appointment/m);

    // Second run: no change.
    const again = await runXlnc(['onboard', '--from', answersFile, '--update'], commandEnv);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('Retell: no change (already provisioned).');

    // Drift on the fake: doctor names it and exits 1.
    retell.workspace(apiKey).numbers.get('+13105550142')!.inbound_webhook_url = 'https://old.example/hook';
    const doctor = await runXlnc(['clients', 'doctor', clientId], commandEnv);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`number +13105550142: inbound webhook URL https://old.example/hook -> http://localhost:${port}/api/webhooks/retell/${clientId}`);

    const disabled = await runXlnc(['clients', 'disable', clientId], commandEnv);
    expect(disabled.stdout).toContain(`${clientId}: disabled`);
    expect(JSON.parse(readFileSync(join(clientsDir, `${clientId}.json`), 'utf8'))).toMatchObject({ status: 'disabled' });
    expect((await runXlnc(['clients', 'enable', clientId], commandEnv)).stdout).toContain(`${clientId}: enabled`);
  }, 300_000);

  it('--store db saves through the admin service into the database the running server holds; a simulated call works without a restart', async () => {
    const answersFile = join(tempDir('onb-answers-'), 'answers.json');
    const answers = {
      client_id: dbClientId,
      name: 'Harbor Dental',
      environment: 'test',
      industry: 'medical',
      timezone: 'America/Los_Angeles',
      business_hours: { mon: ['08:00-18:00'], tue: ['08:00-18:00'], wed: ['08:00-18:00'], thu: ['08:00-18:00'], fri: ['08:00-18:00'], sat: ['09:00-13:00'], sun: ['09:00-13:00'] },
      retell: { api_key: dbApiKey, agent_ids: [dbAgentId], phone_numbers: ['+13105550143'], api_base_url: retell.url },
      calendar: { provider: 'internal' },
    };
    writeFileSync(answersFile, JSON.stringify(answers));
    const started = Date.now();
    const run = await runXlnc(['onboard', '--from', answersFile, '--store', 'db'], commandEnv, { timeoutMs: 120_000 });
    const elapsed = Date.now() - started;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // The command's own figures, from the answers read to the client saved: wall clock (which a
    // loaded machine stretches) and the machine time it used (CPU).
    const [, ownMs, cpuMs] = /\((\d+) ms, (\d+) ms CPU\)\s*$/.exec(run.stdout) ?? [];
    expect(Number(cpuMs)).toBeLessThan(60_000);
    expect(run.stdout).toContain('Saving the client in the database');
    expect(run.stdout).toContain(`Client ${dbClientId} is onboarded (database).`);
    expect(retell.workspace(dbApiKey).agents.get(dbAgentId)?.webhook_url).toBe(`http://localhost:${port}/api/webhooks/retell/${dbClientId}`);
    console.log(`xlnc onboard --store db: ${cpuMs} ms CPU, ${ownMs} ms wall clock from answers to saved client (${elapsed} ms with Node's start-up)`);

    // Stored as the admin API stores it: version 1, the key sealed (enc:v1:), audited as the command line.
    const access = readEmbeddedAccess(dataDir);
    expect(access).toBeDefined();
    const db = new pg.Client({ connectionString: embeddedAccessUrl(access!) });
    await db.connect();
    try {
      const { rows } = await db.query<{ config: { retell: { api_key: string } }; version: number }>('select config, version from client_configs where id = $1', [dbClientId]);
      expect(rows[0]?.version).toBe(1);
      expect(rows[0]?.config.retell.api_key).toMatch(/^enc:v1:/);
      expect(JSON.stringify(rows[0]?.config)).not.toContain(dbApiKey);
      const audit = await db.query<{ action: string; actor: string }>('select action, actor from audit_log where target_id = $1', [dbClientId]);
      expect(audit.rows).toEqual([{ action: 'client.create', actor: 'cli' }]);
    } finally {
      await db.end();
    }

    // The server, which holds the embedded database and has no Redis, notices on its next poll (2 s): no restart.
    let call = await runXlnc(['simulate-call', '--client', dbClientId, '--scenario', 'booked'], commandEnv);
    for (let attempt = 0; attempt < 5 && call.code !== 0; attempt++) {
      await new Promise((r) => setTimeout(r, 1000));
      call = await runXlnc(['simulate-call', '--client', dbClientId, '--scenario', 'booked'], commandEnv);
    }
    expect(call.code, call.stdout + call.stderr).toBe(0);
    expect(call.stdout).toMatch(/^200 {2}function book_appointment/m);

    // --update reconciles the database client through the admin service: Retell unchanged.
    const again = await runXlnc(['onboard', '--from', answersFile, '--store', 'db', '--update'], commandEnv);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('Retell: no change (already provisioned).');

    // clients disable|enable change a database client through the admin service too (versioned,
    // audited as the command line); an id that is neither a file nor a database client is refused.
    const off = await runXlnc(['clients', 'disable', dbClientId], commandEnv);
    expect(off.code, off.stdout + off.stderr).toBe(0);
    expect(off.stdout).toContain(`${dbClientId}: disabled`);
    expect((await runXlnc(['clients', 'disable', dbClientId], commandEnv)).stdout).toContain(`${dbClientId}: already disabled`);
    const on = await runXlnc(['clients', 'enable', dbClientId], commandEnv);
    expect(on.stdout + on.stderr).toContain(`${dbClientId}: enabled`);
    const statusDb = new pg.Client({ connectionString: embeddedAccessUrl(readEmbeddedAccess(dataDir)!) });
    await statusDb.connect();
    try {
      const { rows } = await statusDb.query<{ status: string | null }>("select config->>'status' as status from client_configs where id = $1", [dbClientId]);
      expect(rows[0]?.status ?? 'active').toBe('active');
      const audit = await statusDb.query<{ action: string; actor: string }>("select action, actor from audit_log where target_id = $1 order by id", [dbClientId]);
      // create, the --update above, then this disable and enable ("already disabled" wrote nothing).
      expect(audit.rows.map((r) => r.action).slice(-2)).toEqual(['client.disable', 'client.update']);
      expect(audit.rows.filter((r) => r.action === 'client.disable')).toHaveLength(1);
      expect(new Set(audit.rows.map((r) => r.actor))).toEqual(new Set(['cli']));
    } finally {
      await statusDb.end();
    }
    const nobody = await runXlnc(['clients', 'disable', 'no-such-client'], commandEnv);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('no client file no-such-client.json');

    // The stores do not mix: a database client's id is refused for a file, a file client's for the database.
    const asFile = await runXlnc(['onboard', '--from', answersFile, '--update'], commandEnv);
    expect(asFile.code).toBe(1);
    expect(asFile.stdout).toContain(`client ${dbClientId} is stored in the database, not in a client file`);
    expect(asFile.stdout).toContain('xlnc onboard --store db --update');
    const fileAnswers = join(tempDir('onb-answers-'), 'answers.json');
    writeFileSync(fileAnswers, JSON.stringify({ ...answers, client_id: clientId }));
    const asDb = await runXlnc(['onboard', '--from', fileAnswers, '--store', 'db', '--update'], commandEnv);
    expect(asDb.code).toBe(1);
    expect(asDb.stdout).toContain(`client ${clientId} is defined by a client file, not the database`);
  }, 300_000);
});
