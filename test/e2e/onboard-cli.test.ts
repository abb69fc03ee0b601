/**
 * `xlnc onboard --from answers.json` as an operator runs it, against the running embedded server
 * and a local fake of Retell's management API: checks, provisioning and the client file in one
 * step; then a simulated call to the new client works without restarting the server, and
 * `xlnc clients doctor` reports a drift introduced on the fake. Also `clients disable|enable`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetellFake, type RetellFake } from '../fakes/retell-fake.ts';
import { exited, freePort, runXlnc, startServer, waitFor } from '../helpers/processes.ts';
import { tempDir, uniqueId } from '../helpers/test-app.ts';

describe('xlnc onboard against the running server', () => {
  const clientId = uniqueId('onb');
  const agentId = `agent_${clientId.replaceAll('-', '')}`;
  const apiKey = `key_${clientId.replaceAll('-', '_')}_secret`;
  const dataDir = tempDir('onb-data-');
  const clientsDir = tempDir('onb-clients-');
  const commandEnv = { DATA_DIR: dataDir, CLIENTS_DIR: clientsDir };
  let port = 0;
  let server: ReturnType<typeof startServer>;
  let retell: RetellFake;

  beforeAll(async () => {
    retell = await startRetellFake();
    retell.addWorkspace({ apiKey, agents: [{ agent_id: agentId }], numbers: [{ phone_number: '+13105550142', agent_id: agentId }] });
    port = await freePort();
    server = startServer({ PORT: String(port), DATA_DIR: dataDir, CLIENTS_DIR: clientsDir });
    await waitFor(`http://127.0.0.1:${port}/health`, 45_000);
  }, 60_000);
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
    expect(elapsed).toBeLessThan(60_000);
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
  }, 150_000);
});
