/**
 * `xlnc jobs failed [--client <id>] [--json]` and `xlnc jobs retry <id…> | --all [--client <id>]`:
 * the dead-letter queue from the command line (the console shows the same). Errors are shown
 * scrubbed of every secret of the platform and of the client files, and of credential-shaped text.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { listSecretFields } from '../clients/client.schema.ts';
import type { CliIo } from '../clients/clients.cli.ts';
import { loadClientsDir } from '../clients/client-loader.ts';
import { loadPlatformConfig } from '../platform/config.ts';
import { openDatabase } from '../platform/db/database.ts';
import { createLogger, createSecretScrubber, type SecretScrubber } from '../platform/logging.ts';
import { createJobQueue, type JobQueue } from '../platform/queue.ts';
import { listFailedJobs, retryFailedJobs, type FailedJob } from './failed-jobs.service.ts';

export interface JobsCliContext {
  /** A started queue (tests); by default the one of the database the environment names. */
  queue?: Pick<JobQueue, 'deadLetters' | 'retryDeadLetters'>;
  scrubber?: SecretScrubber;
}

async function withQueue<T>(ctx: JobsCliContext, io: CliIo, run: (queue: Pick<JobQueue, 'deadLetters' | 'retryDeadLetters'>, scrubber: SecretScrubber) => Promise<T>): Promise<T> {
  if (ctx.queue) return run(ctx.queue, ctx.scrubber ?? createSecretScrubber());
  const config = loadPlatformConfig();
  const scrubber = createSecretScrubber();
  scrubber.add(config.jwtSecret);
  scrubber.add(config.jwtRefreshSecret);
  for (const key of config.encryptionKeys) {
    scrubber.add(key.toString('hex'));
    scrubber.add(key.toString('base64'));
  }
  // Every client file's secrets: a provider's error may quote one.
  for (const loaded of await loadClientsDir(config.clientsDir, { env: io.env, encryptionKeys: io.encryptionKeys, logger: pino({ level: 'silent' }) }).catch(() => [])) {
    for (const value of loaded.secretValues) scrubber.add(value);
    if (loaded.config) for (const field of listSecretFields(loaded.config as Parameters<typeof listSecretFields>[0])) scrubber.add(field.value);
  }
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  const queue = createJobQueue(database, createLogger({ level: 'silent', scrubber }), config.queueSchema, { supervise: false });
  try {
    await queue.boss.start();
    return await run(queue, scrubber);
  } finally {
    await queue.stop();
    await database.close();
  }
}

function table(jobs: FailedJob[]): string {
  const rows = jobs.map((job) => [
    job.id,
    job.queue,
    job.client_id,
    String(job.attempts),
    job.failed_at.replace(/\.\d+Z$/, 'Z'),
    Object.entries(job.subject)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    job.last_error.replace(/\s+/g, ' '),
  ]);
  const head = ['ID', 'QUEUE', 'CLIENT', 'ATTEMPTS', 'FAILED AT', 'ABOUT', 'LAST ERROR'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === head.length - 1 ? 0 : (r[i] ?? '').length))));
  return [head, ...rows].map((r) => r.map((cell, i) => (i === head.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** `xlnc jobs failed [--client <id>] [--json]` */
export async function jobsFailed(args: string[], io: CliIo, ctx: JobsCliContext = {}): Promise<number> {
  const { values } = parseArgs({ args, options: { client: { type: 'string' }, json: { type: 'boolean', default: false }, limit: { type: 'string' } } });
  const limit = values.limit !== undefined ? Number(values.limit) : 200;
  if (!Number.isInteger(limit) || limit < 1) {
    io.stderr('--limit must be a positive whole number\n');
    return 2;
  }
  const jobs = await withQueue(ctx, io, (queue, scrubber) => listFailedJobs(queue, { ...(values.client !== undefined ? { clientId: values.client } : {}), limit }, scrubber));
  if (values.json) {
    io.stdout(`${JSON.stringify(jobs, null, 2)}\n`);
    return 0;
  }
  const whose = values.client !== undefined ? ` of client ${values.client}` : '';
  if (jobs.length === 0) {
    io.stdout(`No failed jobs${whose}.\n`);
    return 0;
  }
  io.stdout(`${table(jobs)}\n\n${jobs.length} failed job(s)${whose}. Fix the cause, then \`xlnc jobs retry <id>\` or \`xlnc jobs retry --all${values.client !== undefined ? ` --client ${values.client}` : ''}\`.\n`);
  return 0;
}

/** `xlnc jobs retry <id…> | --all [--client <id>]` */
export async function jobsRetry(args: string[], io: CliIo, ctx: JobsCliContext = {}): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { all: { type: 'boolean', default: false }, client: { type: 'string' } } });
  if (values.all === (positionals.length > 0)) {
    io.stderr('Usage: xlnc jobs retry <id> [<id>…] | --all [--client <id>]\n');
    return 2;
  }
  return withQueue(ctx, io, async (queue) => {
    if (values.all) {
      const moved = await queue.retryDeadLetters({ all: true, ...(values.client !== undefined ? { clientId: values.client } : {}) });
      io.stdout(`Retried ${moved} failed job(s)${values.client !== undefined ? ` of client ${values.client}` : ''}.\n`);
      return 0;
    }
    const { retried, notFound } = await retryFailedJobs(queue, positionals, values.client !== undefined ? { clientId: values.client } : {});
    if (retried.length > 0) io.stdout(`Retried ${retried.length} job(s): ${retried.join(', ')}\n`);
    if (notFound.length > 0) io.stderr(`Not failed (already retried, never failed, or not this client's): ${notFound.join(', ')}\n`);
    return notFound.length > 0 ? 1 : 0;
  });
}
