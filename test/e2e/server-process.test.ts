import { randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/platform/db/database.ts';
import { sqlRows } from '../../src/platform/db/database.ts';
import { signRetellBody } from '../../src/webhooks/retell/retell-signature.ts';
import { ROOT } from '../helpers/paths.ts';
import { exited, freePort, serverUp, startServer } from '../helpers/processes.ts';
import { callEvent, retellKeyFor } from '../helpers/retell.ts';
import { migratedDataDir, tempDir, testClientConfig, uniqueId, writeClientFile } from '../helpers/test-app.ts';
import { dropSchema, TEST_DATABASE_URL } from '../helpers/test-db.ts';

// On the run's shared PostgreSQL these servers keep their jobs in a pg-boss schema of their own, so
// jobs other test files left for clients these servers do not know never sit ahead of theirs.
const QUEUE_SCHEMA = `pgboss_proc_${randomBytes(4).toString('hex')}`;
const SHARED_DATABASE_ENV: Record<string, string> = TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL, QUEUE_SCHEMA } : {};
afterAll(() => dropSchema(QUEUE_SCHEMA));

describe('the server process', () => {
  it('starts with the example client, answers /health within 15 s of CPU time, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const { child, output } = startServer({
      PORT: String(port),
      DATA_DIR: tempDir('proc-'),
      ...SHARED_DATABASE_ENV,
    });
    try {
      // The start's own cost is its CPU time (a first start: the embedded database is created and
      // migrated); the wall clock only says how busy the machine was, so it gets a generous bound.
      const up = await serverUp(child, `http://127.0.0.1:${port}/health`, 90_000);
      console.log(`first start: /health after ${up.wallMs} ms wall clock, ${Math.round(up.cpuMs)} ms CPU`);
      expect(up.cpuMs).toBeLessThan(15_000);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/ready`)).json()) as { status: string };
      expect(ready.status).toBe('ready');
      // The example client is loaded: an unsigned event is refused for its signature, not as an unknown client.
      const unsigned = await fetch(`http://127.0.0.1:${port}/api/webhooks/retell/smart-tax-nation`, { method: 'POST', body: '{}' });
      expect(unsigned.status).toBe(401);
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(output()).not.toContain('Error');
  }, 120_000);

  it('SIGKILL during a burst: every event that got a 2xx is stored after restart, and its jobs complete', async () => {
    const clientId = uniqueId('crash');
    const clientsDir = tempDir('clients-');
    writeClientFile(clientsDir, testClientConfig(clientId, { limits: { webhooks_per_minute: 100_000 } }));
    const dataDir = migratedDataDir('crash-data-');
    const port = await freePort();
    const env = {
      PORT: String(port),
      DATA_DIR: dataDir,
      CLIENTS_DIR: clientsDir,
      ...SHARED_DATABASE_ENV,
    };
    const first = startServer(env);
    await serverUp(first.child, `http://127.0.0.1:${port}/health`, 90_000);

    const acked = new Set<string>();
    let sent = 0;
    let killed = false;
    const sendOne = async (i: number) => {
      const callId = `call_crash_${i}`;
      const body = JSON.stringify(callEvent(clientId, 'call_ended', callId));
      sent++;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/retell/${clientId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, retellKeyFor(clientId), Date.now()) },
          body,
        });
        if (res.status >= 200 && res.status < 300) acked.add(callId);
      } catch {
        // The process died mid-request: not acknowledged, so Retell would retry it.
      }
    };
    // Eight senders, each sending its next request as soon as the last one settles, so requests are
    // in flight whenever the kill lands; they go on until the process is gone (those fail unacked).
    let next = 0;
    const burst = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!killed && next < 2000) await sendOne(next++);
      }),
    );
    while (acked.size < 60) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await exited(first.child);
    killed = true;
    await burst;
    expect(sent).toBeGreaterThan(acked.size);

    const second = startServer(env);
    try {
      await serverUp(second.child, `http://127.0.0.1:${port}/health`, 90_000);
      // Wait until this client's post-call jobs have drained: those the killed process had claimed
      // run again once their heartbeat is stale (10 s) at the next supervision pass (every 30 s).
      const deadline = Date.now() + 75_000;
      for (;;) {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const pending = metrics
          .split('\n')
          // Scheduled jobs (each call's post-call fallback, due after the summary wait) are not backlog.
          .filter((l) => l.startsWith('xlnc_queue_depth{') && l.includes(`client_id="${clientId}"`) && !l.includes('state="scheduled"'))
          .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
        if (pending === 0 && metrics.includes('xlnc_queue_depth')) break;
        if (Date.now() > deadline) throw new Error(`jobs still pending: ${pending}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
    } finally {
      if (second.child.exitCode === null) second.child.kill('SIGKILL');
    }

    const database = await openDatabase({ url: TEST_DATABASE_URL, dataDir });
    try {
      const events = await sqlRows<{ call_id: string }>(database.db, sql`select call_id from call_events where client_id = ${clientId}`);
      const runs = await sqlRows<{ call_id: string }>(database.db, sql`select call_id from workflow_runs where client_id = ${clientId}`);
      const stored = new Set(events.map((e) => e.call_id));
      const completed = new Set(runs.map((r) => r.call_id));
      for (const callId of acked) {
        expect(stored.has(callId), `${callId} acknowledged but not stored`).toBe(true);
        expect(completed.has(callId), `${callId} acknowledged but its job did not complete`).toBe(true);
      }
      expect(runs.length).toBe(events.length);
    } finally {
      await database.close();
    }
  }, 150_000);

  it('`xlnc simulate-call --scenario booked` against the server books in the internal calendar, shows the sandbox SMS, and stores a complete call', async () => {
    const port = await freePort();
    const dataDir = migratedDataDir('sim-');
    const env = { PORT: String(port), DATA_DIR: dataDir, ...SHARED_DATABASE_ENV };
    const server = startServer(env);
    let stdout = '';
    try {
      await serverUp(server.child, `http://127.0.0.1:${port}/health`, 90_000);
      const result = await promisify(execFile)(
        process.execPath,
        ['bin/xlnc.js', 'simulate-call', '--client', 'smart-tax-nation', '--base-url', `http://127.0.0.1:${port}`, '--scenario', 'booked', '--from', '+14155550161'],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env, NODE_ENV: 'development' }, timeout: 60_000 },
      );
      stdout = result.stdout;
      // Let the post-call jobs run before stopping.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const pending = metrics.split('\n').filter((l) => l.startsWith('xlnc_queue_depth{') && l.includes('client_id="smart-tax-nation"') && !l.includes('state="scheduled"')).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
        if (pending === 0 && metrics.includes('job="event.post-call",client_id="smart-tax-nation",outcome="completed"')) break;
        if (Date.now() > deadline) throw new Error('post-call jobs did not finish');
        await new Promise((r) => setTimeout(r, 250));
      }
      server.child.kill('SIGTERM');
      expect(await exited(server.child)).toBe(0);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
    expect(stdout).toMatch(/^200 +function book_appointment .*"booked":true/m);
    expect(stdout).toMatch(/Confirmation SMS \(sandbox\):\n {2}.*Smart Tax Nation/);
    expect(stdout).toMatch(/^204 +call_ended \(duplicate\)/m);

    const database = await openDatabase({ url: TEST_DATABASE_URL, dataDir });
    try {
      const [call] = await sqlRows<{ call_id: string; status: string; summary: string | null; transcript: string | null; recording_url: string | null; customer_id: string | null }>(
        database.db,
        sql`select call_id, status, summary, transcript, recording_url, customer_id from calls where client_id = 'smart-tax-nation' and from_number = '+14155550161'`,
      );
      expect(call).toMatchObject({ status: 'ended' });
      expect(call?.summary).toBeTruthy();
      expect(call?.transcript).toBeTruthy();
      expect(call?.recording_url).toBeTruthy();
      expect(call?.customer_id).toBeTruthy();
      const counts = await sqlRows<{ events: number; appointments: number; sms: number; workflows: number; functions: number }>(
        database.db,
        sql`select (select count(*)::int from call_events where client_id = 'smart-tax-nation' and call_id = ${call!.call_id}) as events,
                   (select count(*)::int from appointments where client_id = 'smart-tax-nation' and call_id = ${call!.call_id} and status = 'booked') as appointments,
                   (select count(*)::int from messages where client_id = 'smart-tax-nation' and call_id = ${call!.call_id} and channel = 'sms' and status = 'sandbox') as sms,
                   (select count(*)::int from workflow_runs where client_id = 'smart-tax-nation' and call_id = ${call!.call_id}) as workflows,
                   (select count(*)::int from function_calls where client_id = 'smart-tax-nation' and call_id = ${call!.call_id}) as functions`,
      );
      // call_inbound, call_started, call_analyzed, call_ended (the duplicate is not stored twice).
      expect(counts[0]).toEqual({ events: 4, appointments: 1, sms: 1, workflows: 2, functions: 2 });
    } finally {
      await database.close();
    }
  }, 120_000);

  // A separate worker needs a shared database: PGlite allows one process per data folder.
  it.runIf(TEST_DATABASE_URL)('API with WORKERS_IN_PROCESS=false and a separate `xlnc worker` process: the worker runs the jobs', async () => {
    const clientId = uniqueId('split');
    const clientsDir = tempDir('clients-');
    writeClientFile(clientsDir, testClientConfig(clientId));
    const port = await freePort();
    const env = { PORT: String(port), DATA_DIR: tempDir('split-'), CLIENTS_DIR: clientsDir, ...SHARED_DATABASE_ENV, WORKERS_IN_PROCESS: 'false' };
    const api = startServer(env);
    const worker = spawn(process.execPath, ['bin/xlnc.js', 'worker'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'warn', ...env }, stdio: 'ignore' });
    const database = await openDatabase({ url: TEST_DATABASE_URL, dataDir: tempDir('split-db-') });
    try {
      await serverUp(api.child, `http://127.0.0.1:${port}/health`, 90_000);
      const body = JSON.stringify(callEvent(clientId, 'call_ended', 'call_split_1'));
      const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/retell/${clientId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, retellKeyFor(clientId), Date.now()) },
        body,
      });
      expect(res.status).toBe(204);
      const deadline = Date.now() + 45_000;
      for (;;) {
        const runs = await sqlRows<{ n: number }>(database.db, sql`select count(*)::int as n from workflow_runs where client_id = ${clientId}`);
        if (runs[0]?.n === 1) break;
        if (Date.now() > deadline) throw new Error('the worker did not run the post-call job');
        await new Promise((r) => setTimeout(r, 200));
      }
      // The API process itself runs no workers.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).not.toContain(`xlnc_jobs_total{job="event.post-call",client_id="${clientId}"`);
    } finally {
      api.child.kill('SIGTERM');
      worker.kill('SIGTERM');
      await Promise.all([exited(api.child), exited(worker)]);
      await database.close();
    }
  }, 120_000);
});
