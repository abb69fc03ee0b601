/**
 * The real `xlnc` against a running embedded server, as a newcomer runs them: the server in one
 * shell (`PORT=… npm start`), commands in another that has only DATA_DIR and CLIENTS_DIR in
 * common with it (no PORT, no PUBLIC_BASE_URL).
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, freePort, runXlnc, serverUp, startServer } from '../helpers/processes.ts';
import { tempDir, testClientConfig, uniqueId, writeClientFile } from '../helpers/test-app.ts';

describe('xlnc commands while the embedded server runs', () => {
  const clientId = uniqueId('cli');
  const phoneNumber = '+14155550177';
  const dataDir = tempDir('cli-data-');
  const clientsDir = tempDir('cli-clients-');
  const email = `${uniqueId('admin')}@example.test`;
  const password = 'a-long-enough-password';
  let port = 0;
  let server: ReturnType<typeof startServer>;
  // What the command's shell has: the same folders, nothing else.
  const commandEnv = { DATA_DIR: dataDir, CLIENTS_DIR: clientsDir };

  const start = async () => {
    server = startServer({ PORT: String(port), DATA_DIR: dataDir, CLIENTS_DIR: clientsDir });
    await serverUp(server.child, `http://127.0.0.1:${port}/health`, 90_000);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return;
    server.child.kill(signal);
    await exited(server.child);
  };
  const login = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    return res.ok ? ((await res.json()) as { access_token: string }).access_token : undefined;
  };

  beforeAll(async () => {
    writeClientFile(clientsDir, testClientConfig(clientId, { retell: { api_key: `key_test_${clientId.replaceAll('-', '_')}_secret`, agent_ids: [`agent_${clientId.replaceAll('-', '')}`], phone_numbers: [phoneNumber] } }));
    port = await freePort();
    await start();
  }, 120_000);
  afterAll(() => stop('SIGKILL'));

  it('users create, reset-password, keys rotate and migrate all work through the server, whose share is loopback-only and recorded 0600', async () => {
    const created = await runXlnc(['users', 'create', '--email', email, '--role', 'platform_admin', '--password-stdin'], commandEnv, { stdin: `${password}\n` });
    expect(created.stderr).not.toMatch(/in use by process/);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`Created platform_admin ${email}`);
    expect(await login()).toBeTruthy();

    const reset = await runXlnc(['users', 'reset-password', '--email', email, '--password-stdin'], commandEnv, { stdin: `${password}\n` });
    expect(reset.code, reset.stderr).toBe(0);
    expect((await runXlnc(['keys', 'rotate'], commandEnv)).code).toBe(0);
    const migrated = await runXlnc(['migrate'], commandEnv);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(`the server running as process ${server.child.pid}`);

    const access = JSON.parse(readFileSync(join(dataDir, 'embedded-db.json'), 'utf8')) as { host: string; port: number; password: string };
    expect(access.host).toBe('127.0.0.1');
    expect(statSync(join(dataDir, 'embedded-db.json')).mode & 0o777).toBe(0o600);
    expect(access.password.length).toBeGreaterThanOrEqual(32);
  }, 120_000);

  it('a data folder held by another command is reported before any password prompt', async () => {
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const lockDir = tempDir('cli-locked-');
    writeFileSync(join(lockDir, 'xlnc.lock'), `${holder.pid}\n`);
    try {
      // No terminal and no --password-stdin: a prompt would fail with "No terminal to prompt".
      const result = await runXlnc(['users', 'create', '--email', `${uniqueId('x')}@example.test`, '--role', 'platform_admin'], { DATA_DIR: lockDir, CLIENTS_DIR: clientsDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`in use by another xlnc command (process ${holder.pid})`);
      expect(result.stderr).not.toMatch(/password/i);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('simulate-call finds the server at its own PORT; the simulated calls are inbound to the client\'s number', async () => {
    const scenarios = ['booked', 'no-answer', 'voicemail'] as const;
    for (const scenario of scenarios) {
      const result = await runXlnc(['simulate-call', '--client', clientId, '--scenario', scenario], commandEnv);
      expect(result.code, `${scenario}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`at http://127.0.0.1:${port} (the server running as process ${server.child.pid}, described in `);
    }
    const token = await login();
    const res = await fetch(`http://127.0.0.1:${port}/api/clients/${clientId}/calls?limit=10`, { headers: { authorization: `Bearer ${token}` } });
    const calls = ((await res.json()) as { data: { direction: string; to_number: string; outcome: string; status: string }[] }).data;
    expect(calls).toHaveLength(3);
    for (const call of calls) expect(call).toMatchObject({ direction: 'inbound', to_number: phoneNumber });
    expect(calls.map((c) => c.outcome).sort()).toEqual(['booked', 'no_answer', 'voicemail']);
  }, 120_000);

  it('clients tools prints function URLs of the running server, and says PUBLIC_BASE_URL is not set and how to set it', async () => {
    const result = await runXlnc(['clients', 'tools', clientId], commandEnv);
    expect(result.code, result.stderr).toBe(0);
    const tools = JSON.parse(result.stdout) as { url: string }[];
    expect(tools[0]?.url).toBe(`http://localhost:${port}/api/webhooks/retell/${clientId}/functions/${tools[0]?.url.split('/').pop()}`);
    expect(result.stderr).toContain(`Public URLs use http://localhost:${port}`);
    expect(result.stderr).toContain('PUBLIC_BASE_URL is not set');
    expect(result.stderr).toMatch(/set PUBLIC_BASE_URL to .* and restart the server/);
    const configured = await runXlnc(['clients', 'tools', clientId], { ...commandEnv, PUBLIC_BASE_URL: 'https://voice.example.com' });
    expect((JSON.parse(configured.stdout) as { url: string }[])[0]?.url).toMatch(/^https:\/\/voice\.example\.com\/api\/webhooks\/retell\//);
    expect(configured.stderr).toBe('Public URLs use https://voice.example.com, from PUBLIC_BASE_URL.\n');
  }, 60_000);

  it('after a crash and a restart, commands neither fail nor wait: they open the folder, then use the new server', async () => {
    await stop('SIGKILL');
    // The crash left its lock and share record behind; the command takes the folder over.
    const whileDown = await runXlnc(['migrate'], commandEnv);
    expect(whileDown.code, whileDown.stderr).toBe(0);
    expect(whileDown.stdout).toContain('Migrations applied (pglite)');
    const closedPort = await freePort();
    const simulated = await runXlnc(['simulate-call', '--client', clientId], { ...commandEnv, PORT: String(closedPort) });
    expect(simulated.code).toBe(1);
    expect(simulated.stderr).toContain(`Could not reach http://localhost:${closedPort} (ECONNREFUSED)`);
    expect(simulated.stderr).toContain('npm start');
    expect(simulated.stderr).not.toMatch(/^fetch failed$/m);

    await start();
    const created = await runXlnc(['users', 'create', '--email', `${uniqueId('after')}@example.test`, '--role', 'platform_admin', '--password-stdin'], commandEnv, { stdin: `${password}\n` });
    expect(created.code, created.stderr).toBe(0);
  }, 120_000);
});
