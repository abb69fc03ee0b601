/**
 * `xlnc`: the operator's command line. Each command is a function returning an exit code.
 */
import { isAbsolute, join, relative } from 'node:path';
import { keysRotate } from './admin/keys.cli.ts';
import { analyticsRebuild } from './analytics/analytics.cli.ts';
import { usersCreate, usersResetPassword } from './auth/users.cli.ts';
import { clientsList, clientsSchema, clientsValidate, secretsEncrypt, secretsWebhook } from './clients/clients.cli.ts';
import { ConfigError, loadPlatformConfig, type PlatformConfig } from './platform/config.ts';
import { publicBaseNotice, publicBaseOf, type PublicBase } from './platform/public-urls.ts';
import { openDatabase } from './platform/db/database.ts';
import { jobsFailed, jobsRetry } from './ops/jobs.cli.ts';

type Io = Parameters<typeof clientsValidate>[1];
type Command = (args: string[], io: Io) => Promise<number>;

/** The release step: the same schema preparation every instance runs at startup, then exit. */
async function migrate(_args: string[], io: Io): Promise<number> {
  const { prepareSchema } = await import('./deps.ts');
  const { catalogueJobs } = await import('./core/dispatch.ts');
  const { JOB_CATALOGUE } = await import('./core/router.ts');
  const { createJobQueue } = await import('./platform/queue.ts');
  const { createLogger, createSecretScrubber } = await import('./platform/logging.ts');
  const config = loadPlatformConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  const queue = createJobQueue(database, createLogger({ level: config.logLevel, scrubber: createSecretScrubber() }), config.queueSchema, { supervise: false });
  try {
    // A running server shares its embedded database once it has prepared the schema (queue included):
    // through the share, the SQL migrations are all there is to check.
    const shared = database.sharedBy !== undefined;
    const applied = shared ? await database.migrate() : await prepareSchema(database, queue, catalogueJobs(JOB_CATALOGUE));
    const where = shared ? `the embedded database of the server running as process ${database.sharedBy}` : database.kind;
    io.stdout(`Migrations applied (${where}): ${applied} this run${shared ? '' : `; job queue schema "${config.queueSchema}" ready`}.\n`);
    return 0;
  } finally {
    await queue.stop();
    await database.close();
  }
}

async function worker(): Promise<number> {
  const { runWorker } = await import('./worker.ts');
  await runWorker();
  // Keep running: the worker exits from its signal handlers.
  return new Promise<number>(() => undefined);
}

/**
 * Where a command on this machine reaches the server: `--base-url`, else the live server described
 * in DATA_DIR (whatever PORT it was given), else PUBLIC_BASE_URL, else http://localhost:$PORT.
 */
/** A path as the user would type it: relative to where they are, when it is below. */
function shownPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

async function serverTarget(config: PlatformConfig, flag: string | undefined): Promise<{ url: string; source: string }> {
  if (flag) return { url: flag.replace(/\/+$/, ''), source: '--base-url' };
  const { readRunningServer, SERVER_RECORD_FILE } = await import('./platform/running-server.ts');
  const running = readRunningServer(config.dataDir);
  if (running) return { url: running.localUrl, source: `the server running as process ${running.pid}, described in ${shownPath(join(config.dataDir, SERVER_RECORD_FILE))}` };
  if (config.publicBaseUrlConfigured) return { url: config.publicBaseUrl, source: 'PUBLIC_BASE_URL' };
  return { url: `http://localhost:${config.port}`, source: `PORT=${config.port}; no running server is described in ${config.dataDir}` };
}

/** The public base this machine's server hands out: PUBLIC_BASE_URL here, else the running server's, else the default. */
async function publicBaseHere(config: PlatformConfig): Promise<PublicBase> {
  const own = publicBaseOf(config);
  if (own.configured) return own;
  const { readRunningServer } = await import('./platform/running-server.ts');
  const running = readRunningServer(config.dataDir);
  if (!running) return own;
  return {
    url: running.publicBaseUrl,
    configured: running.publicBaseUrlConfigured,
    source: running.publicBaseUrlConfigured
      ? `the PUBLIC_BASE_URL of the server running as process ${running.pid}`
      : `the server running as process ${running.pid}, whose PUBLIC_BASE_URL is not set`,
  };
}

async function loadClientForCommand(id: string, config: PlatformConfig, io: Io) {
  const { clientIdPattern } = await import('./clients/client.schema.ts');
  const { loadClientFile } = await import('./clients/client-loader.ts');
  if (!clientIdPattern.test(id)) {
    io.stderr(`"${id}" is not a client id (a-z, 0-9 and "-").\n`);
    return undefined;
  }
  const file = `${config.clientsDir}/${id}.json`;
  if (!(await import('node:fs')).existsSync(file)) return loadDbClientForCommand(id, file, config, io);
  const loaded = await loadClientFile(file, {
    env: config.env,
    encryptionKeys: [...config.encryptionKeys],
    logger: (await import('pino')).pino({ level: 'silent' }),
  });
  if (!loaded.config) {
    io.stderr(`Client ${id} is not loadable from ${config.clientsDir}:\n${loaded.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}\n`);
    return undefined;
  }
  if (loaded.status === 'disabled') io.stderr(`Note: client ${id} is disabled.\n`);
  return { ...loaded, config: loaded.config };
}

/** A database-backed client (`xlnc onboard --store db`, the console), read from the database a running server shares. */
async function loadDbClientForCommand(id: string, file: string, config: PlatformConfig, io: Io) {
  const { createTenancy } = await import('./platform/db/tenancy.ts');
  const { findClientConfig } = await import('./admin/db-clients.repo.ts');
  const { recordFromRow } = await import('./admin/db-clients.service.ts');
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  let row;
  try {
    await database.migrate();
    row = await createTenancy(database).withPlatform((tx) => findClientConfig(tx, id));
  } finally {
    await database.close();
  }
  if (row === undefined) {
    io.stderr(`No client ${id}: ${file} does not exist and the database holds no client ${id}.\n`);
    return undefined;
  }
  const { record } = recordFromRow(row, config.encryptionKeys);
  if (!record.config) {
    io.stderr(`Client ${id} (database) is not loadable:\n${record.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}\n`);
    return undefined;
  }
  if (record.status === 'disabled') io.stderr(`Note: client ${id} is disabled.\n`);
  return { ...record, config: record.config };
}

async function simulate(args: string[], io: Io): Promise<number> {
  const { parseArgs } = await import('node:util');
  const { FALLBACK_BUSINESS_NUMBER, SCENARIOS, simulateCall, SimulatorUnreachableError } = await import('./webhooks/retell/call-simulator.ts');
  const { values } = parseArgs({
    args,
    options: {
      client: { type: 'string' },
      'base-url': { type: 'string' },
      scenario: { type: 'string', default: 'booked' },
      from: { type: 'string' },
    },
  });
  const scenario = SCENARIOS.find((s) => s === values.scenario);
  if (!values.client || !scenario) {
    io.stderr(`Usage: xlnc simulate-call --client <id> [--base-url URL] [--scenario ${SCENARIOS.join('|')}] [--from +1…]\n`);
    return 2;
  }
  const config = loadPlatformConfig();
  const loaded = await loadClientForCommand(values.client, config, io);
  if (!loaded) return 1;
  const target = await serverTarget(config, values['base-url']);
  const businessNumber = loaded.config.retell.phone_numbers[0];
  io.stdout(`Simulating a ${scenario} call to ${loaded.id} at ${target.url} (${target.source})\n`);
  if (!businessNumber) io.stderr(`Note: ${loaded.id} lists no retell.phone_numbers; the call dials ${FALLBACK_BUSINESS_NUMBER}.\n`);
  let steps;
  try {
    steps = await simulateCall({
      baseUrl: target.url,
      clientId: loaded.id,
      apiKey: loaded.config.retell.api_key,
      agentId: loaded.config.retell.agent_ids[0] ?? '',
      scenario,
      ...(businessNumber ? { businessNumber } : {}),
      ...(values.from ? { customerNumber: values.from } : {}),
    });
  } catch (error) {
    if (!(error instanceof SimulatorUnreachableError)) throw error;
    io.stderr(
      `${error.message}: no server answered there (the address came from ${target.source}).\n` +
        `Start the server with \`npm start\` (it listens on PORT, default 3000) in this folder, so it describes itself in DATA_DIR, ` +
        'or pass --base-url http://host:port.\n',
    );
    return 1;
  }
  for (const step of steps) io.stdout(`${String(step.status).padEnd(4)} ${step.label}${step.body && typeof step.body === 'object' ? `  ${JSON.stringify(step.body).slice(0, 300)}` : ''}\n`);
  for (const step of steps) {
    const sms = (step.body as { confirmation_sms?: { status: string; body?: string } } | null)?.confirmation_sms;
    if (sms) io.stdout(`\nConfirmation SMS (${sms.status})${sms.body ? `:\n  ${sms.body}` : ''}\n`);
  }
  const failed = steps.filter((s) => s.status >= 400 && !s.label.startsWith('function'));
  return failed.length > 0 ? 1 : 0;
}

async function clientsTools(args: string[], io: Io): Promise<number> {
  const { retellToolsFor } = await import('./functions/tool-definitions.ts');
  const [id, ...extra] = args;
  if (!id || extra.length > 0) {
    io.stderr('Usage: xlnc clients tools <client-id>\n');
    return 2;
  }
  const config = loadPlatformConfig();
  const loaded = await loadClientForCommand(id, config, io);
  if (!loaded) return 1;
  const base = await publicBaseHere(config);
  const notice = publicBaseNotice(base);
  io.stderr(`${notice ?? `Public URLs use ${base.url}, from ${base.source}.`}\n`);
  io.stdout(`${JSON.stringify(retellToolsFor({ id: loaded.id, config: loaded.config }, base.url), null, 2)}\n`);
  return 0;
}

/** What Zoho connect needs from this machine: the (shared) database, the state secret, the sealing key. */
function zohoConnectOpener(config: PlatformConfig, publicBaseUrl: string) {
  return async () => {
    const { createTenancy } = await import('./platform/db/tenancy.ts');
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
    return {
      deps: { tenancy: createTenancy(database), stateSecret: config.jwtSecret, encryptionKeys: config.encryptionKeys, publicBaseUrl },
      close: () => database.close(),
    };
  };
}

/**
 * The admin clients service over this machine's database (shared by a running server), as the
 * admin API builds it: a registry of the client files (so a file's id is refused), the database
 * clients, and the Redis signal when REDIS_URL is set (other instances reload at once; without
 * Redis they notice on their next poll of the table).
 */
function clientStoreOpener(config: PlatformConfig, publicBaseUrl: string) {
  return async () => {
    const { randomUUID } = await import('node:crypto');
    const { pino } = await import('pino');
    const { createTenancy } = await import('./platform/db/tenancy.ts');
    const { createClientRegistry } = await import('./clients/client-registry.ts');
    const { createDbClientStore } = await import('./admin/db-clients.service.ts');
    const { adminClientsServiceFrom } = await import('./admin/admin-clients.service.ts');
    const { createRedis, createRedisSignal, platformKey } = await import('./platform/redis.ts');
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
    const logger = pino({ level: 'silent' });
    const redis = config.redisUrl ? createRedis(config.redisUrl, { failFast: true }) : undefined;
    const registry = createClientRegistry({ dir: config.clientsDir, env: config.env, encryptionKeys: [...config.encryptionKeys], strict: false, logger, pollIntervalMs: 0, watch: false });
    const tenancy = createTenancy(database);
    const dbClients = createDbClientStore({
      tenancy,
      registry,
      encryptionKeys: config.encryptionKeys,
      logger,
      onSecret: () => undefined,
      pollIntervalMs: 0,
      ...(redis ? { signal: createRedisSignal(redis, platformKey('db-clients-changed'), randomUUID()) } : {}),
    });
    const close = async () => {
      await dbClients.close();
      await registry.close();
      redis?.disconnect();
      await database.close();
    };
    try {
      await database.migrate();
      await registry.start();
      await dbClients.loadAll();
    } catch (error) {
      await close();
      throw error;
    }
    return { clients: adminClientsServiceFrom({ tenancy, registry, dbClients, config: { encryptionKeys: config.encryptionKeys, publicBaseUrl } }), close };
  };
}

async function onboardCommand(args: string[], io: Io): Promise<number> {
  const { onboard } = await import('./onboarding/onboarding.cli.ts');
  const config = loadPlatformConfig();
  const publicBase = await publicBaseHere(config);
  return onboard(args, io, {
    clientsDir: config.clientsDir,
    publicBase,
    openZohoConnect: zohoConnectOpener(config, publicBase.url),
    openClientStore: clientStoreOpener(config, publicBase.url),
    findDbClient: async (id) => {
      const { createTenancy } = await import('./platform/db/tenancy.ts');
      const { findClientConfig } = await import('./admin/db-clients.repo.ts');
      const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
      try {
        return (await createTenancy(database).withPlatform((tx) => findClientConfig(tx, id))) !== undefined;
      } finally {
        await database.close();
      }
    },
  });
}

async function zohoConnect(args: string[], io: Io): Promise<number> {
  const { zohoConnectCommand } = await import('./onboarding/onboarding.cli.ts');
  const config = loadPlatformConfig();
  const publicBase = await publicBaseHere(config);
  return zohoConnectCommand(args, io, { openZohoConnect: zohoConnectOpener(config, publicBase.url) });
}

async function clientsDoctorCommand(args: string[], io: Io): Promise<number> {
  const { clientsDoctor } = await import('./onboarding/onboarding.cli.ts');
  const [id, ...extra] = args;
  if (!id || extra.length > 0) {
    io.stderr('Usage: xlnc clients doctor <client-id>\n');
    return 2;
  }
  const config = loadPlatformConfig();
  const loaded = await loadClientForCommand(id, config, io);
  if (!loaded) return 1;
  return clientsDoctor({ id: loaded.id, config: loaded.config }, io, { publicBase: await publicBaseHere(config) });
}

function clientsStatusCommand(status: 'active' | 'disabled'): Command {
  return async (args, io) => {
    const { clientsSetStatus } = await import('./onboarding/onboarding.cli.ts');
    const { clientIdPattern } = await import('./clients/client.schema.ts');
    const [id, ...extra] = args;
    if (!id || extra.length > 0 || !clientIdPattern.test(id)) {
      io.stderr(`Usage: xlnc clients ${status === 'active' ? 'enable' : 'disable'} <client-id>\n`);
      return 2;
    }
    const config = loadPlatformConfig();
    return clientsSetStatus(id, status, io, config.clientsDir, async () => clientStoreOpener(config, (await publicBaseHere(config)).url)());
  };
}

const COMMANDS: Record<string, { run: Command; help: string }> = {
  onboard: {
    run: onboardCommand,
    help: 'onboard [--from answers.json] [--update] [--dry-run] [--secrets enc|env] [--store file|db] [--json]  verify, provision Retell and write a new client (a file, or the database)',
  },
  'zoho connect': { run: zohoConnect, help: 'zoho connect --client <id> --data-center DC --oauth-client-id X  connect Zoho by OAuth consent (secret on stdin)' },
  'clients doctor': { run: clientsDoctorCommand, help: 'clients doctor <id>      re-run the onboarding checks and report drift from Retell' },
  'clients disable': { run: clientsStatusCommand('disabled'), help: 'clients disable <id>     refuse a client\'s traffic (its file or database row is kept)' },
  'clients enable': { run: clientsStatusCommand('active'), help: 'clients enable <id>      serve a disabled client again' },
  'clients validate': { run: clientsValidate, help: 'clients validate [dir]   check every client file; exit 1 on any error' },
  'clients list': { run: clientsList, help: 'clients list [dir]       list configured clients and their status' },
  'clients schema': { run: clientsSchema, help: 'clients schema           write config/client.schema.json' },
  'clients tools': { run: clientsTools, help: 'clients tools <id>       print the Retell tool definitions (general_tools) for a client' },
  'secrets encrypt': { run: secretsEncrypt, help: 'secrets encrypt [--value V]  seal a secret (stdin) as enc:v1:… for a client file' },
  'secrets webhook': {
    run: secretsWebhook,
    help: 'secrets webhook [--seal]  new signing secret (whsec_…) for an http function; --seal also prints it as enc:v1:…',
  },
  'users create': {
    run: (args, io) => usersCreate(args, io),
    help: 'users create --email E --role platform_admin|client_admin|client_viewer [--client <id>] [--password-stdin]',
  },
  'users reset-password': {
    run: (args, io) => usersResetPassword(args, io),
    help: 'users reset-password --email E [--password-stdin]   set a new password and end their sessions',
  },
  'keys rotate': { run: (args, io) => keysRotate(args, io), help: 'keys rotate [--client <id>]  re-seal database client secrets with the current ENCRYPTION_KEY' },
  'analytics rebuild': {
    run: (args, io) => analyticsRebuild(args, io),
    help: 'analytics rebuild [--client <id>]  recompute the analytics rollups from the stored calls, bookings and messages',
  },
  'jobs failed': { run: (args, io) => jobsFailed(args, io), help: 'jobs failed [--client <id>] [--json]  jobs that gave up: what failed, attempts, the last error (scrubbed)' },
  'jobs retry': { run: (args, io) => jobsRetry(args, io), help: 'jobs retry <id>… | --all [--client <id>]  replay failed jobs (a replay never repeats what already happened)' },
  'simulate-call': { run: simulate, help: 'simulate-call --client <id> [--base-url URL] [--scenario booked|message|no-answer|voicemail]' },
  worker: { run: worker, help: 'worker                   run job workers only (no HTTP)' },
  migrate: { run: migrate, help: 'migrate                  apply database migrations' },
};

function usage(): string {
  return `Usage: xlnc <command>\n\n${Object.values(COMMANDS)
    .map((c) => `  ${c.help}`)
    .join('\n')}\n`;
}

export async function runCli(argv: string[]): Promise<number> {
  const io: Io = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    encryptionKeys: [],
  };
  const two = argv.slice(0, 2).join(' ');
  const match = COMMANDS[two] ? { name: two, rest: argv.slice(2) } : COMMANDS[argv[0] ?? ''] ? { name: argv[0] ?? '', rest: argv.slice(1) } : undefined;
  if (!match || argv.includes('--help')) {
    (match ? io.stdout : io.stderr)(usage());
    return match ? 0 : 2;
  }
  try {
    const config = loadPlatformConfig();
    io.env = config.env;
    io.encryptionKeys = [...config.encryptionKeys];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.message}\n`);
    return 2;
  }
  return COMMANDS[match.name]!.run(match.rest, io);
}

runCli(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
