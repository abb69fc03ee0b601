/**
 * `xlnc onboard`, `xlnc clients doctor <id>`, `xlnc clients disable|enable <id>`: the command-line
 * faces of the onboarding engine (onboarding.service.ts). `onboard` asks its questions with
 * @inquirer/prompts, or reads them from `--from answers.json` (flags override single answers).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { AdminClientsService } from '../admin/admin-clients.service.ts';
import type { CliIo } from '../clients/clients.cli.ts';
import type { ResolvedClientConfig } from '../clients/client.schema.ts';
import { zohoDataCenters } from '../clients/client.schema.ts';
import { AppError } from '../platform/errors.ts';
import { createCircuitBreakers, type ProviderContext } from '../platform/provider-http.ts';
import { publicBaseNotice, type PublicBase } from '../platform/public-urls.ts';
import { createClientFileWriter, setClientFileStatus } from './client-file-writer.ts';
import { createDbClientWriter } from './db-client-writer.ts';
import type { CheckResult } from './onboarding.checks.ts';
import { doctorClient, onboardClient, type ClientWriter, type OnboardingEvent, type OnboardingOutcome } from './onboarding.service.ts';
import { startZohoConnect, zohoConnectStatus, type ZohoConnectDeps } from './zoho-connect.service.ts';

export interface OnboardCliContext {
  clientsDir: string;
  publicBase: PublicBase;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Asks the questions (tests replace it); defaults to @inquirer/prompts on the terminal. */
  ask?: () => Promise<Record<string, unknown>>;
  /** Opens what Zoho connect needs (the database the server shares); only when a flow is started. */
  openZohoConnect?: () => Promise<{ deps: ZohoConnectDeps; close(): Promise<void> }>;
  /** How often the flow is polled while the browser is away (default 1 s). */
  pollMs?: number;
  /**
   * Opens the database-backed clients through the admin service (the database a running server
   * shares): where `--store db` writes, and what a client file must not shadow.
   */
  openClientStore?: () => Promise<{ clients: AdminClientsService; close(): Promise<void> }>;
  /** Whether the database holds a client of this id (one lookup, for the file store's refusal). */
  findDbClient?: (id: string) => Promise<boolean>;
}

/** A file store that also refuses the id of a database-backed client (a file would shadow it). */
function fileWriterAware(clientsDir: string, findDbClient: ((id: string) => Promise<boolean>) | undefined, io: CliIo): ClientWriter {
  const files = createClientFileWriter(clientsDir);
  if (findDbClient === undefined) return files;
  return {
    ...files,
    async existing(id) {
      const file = await files.existing(id);
      if (file !== undefined) return file;
      try {
        return (await findDbClient(id)) ? 'db' : undefined;
      } catch (error) {
        // No database to look in (never set up here): it holds no client a file could shadow.
        io.stderr(`Note: database-backed clients not checked (${(error as Error).message})\n`);
        return undefined;
      }
    },
  };
}

/**
 * Zoho connect from the command line: records the flow, prints the consent link, and waits until
 * the server's callback has stored the refresh token (sealed), which it returns.
 */
export async function connectZohoFromCli(
  io: CliIo,
  input: { clientId: string; dataCenter: (typeof zohoDataCenters)[number]; oauthClientId: string; oauthClientSecret: string; accountsBaseUrl?: string | undefined },
  context: Pick<OnboardCliContext, 'openZohoConnect' | 'pollMs'>,
): Promise<{ ok: true; sealedRefreshToken: string } | { ok: false; error: string }> {
  if (context.openZohoConnect === undefined) return { ok: false, error: 'Zoho connect is not available here' };
  const opened = await context.openZohoConnect();
  try {
    const flow = await startZohoConnect(opened.deps, { clientId: input.clientId, dataCenter: input.dataCenter, oauthClientId: input.oauthClientId, oauthClientSecret: input.oauthClientSecret, accountsBaseUrl: input.accountsBaseUrl });
    io.stdout(`Connect Zoho for ${input.clientId}: open this link, sign in to Zoho and accept (it works once, until ${flow.expires_at}):\n\n  ${flow.authorize_url}\n\nZoho sends you back to ${flow.redirect_uri}; waiting…\n`);
    const deadline = Date.parse(flow.expires_at);
    for (;;) {
      const status = await zohoConnectStatus(opened.deps, flow.id);
      if (status.status === 'connected' && status.refresh_token) {
        io.stdout('Zoho connected: the refresh token is stored sealed.\n');
        return { ok: true, sealedRefreshToken: status.refresh_token };
      }
      if (status.status === 'failed' || status.status === 'expired' || Date.now() > deadline) return { ok: false, error: status.error ?? `the link ${status.status === 'failed' ? 'failed' : 'expired'}` };
      await new Promise((resolve) => setTimeout(resolve, context.pollMs ?? 1000));
    }
  } finally {
    await opened.close();
  }
}

function providerContext(fetchImpl: typeof fetch | undefined): ProviderContext {
  // One command, one attempt per check: the breaker never opens during a run.
  return { fetch: fetchImpl ?? fetch, breakers: createCircuitBreakers({ failureThreshold: 1_000, openMs: 1 }) };
}

const mark = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;

export function formatCheck(result: CheckResult): string {
  return `  ${mark[result.status]}  ${result.label}: ${result.detail}${result.fix ? `\n        fix: ${result.fix}` : ''}\n`;
}

function printer(io: CliIo, json: boolean) {
  return (event: OnboardingEvent) => {
    if (json) {
      io.stdout(`${JSON.stringify(event)}\n`);
      return;
    }
    switch (event.type) {
      case 'step':
        io.stdout(`${event.message}\n`);
        break;
      case 'check':
        io.stdout(formatCheck(event.result));
        break;
      case 'plan':
        io.stdout(event.actions.length === 0 ? '  Retell: no change\n' : event.actions.map((a) => `  change  ${a}\n`).join(''));
        break;
      case 'provision':
        io.stdout(`  ${event.status.replace('_', ' ')}  ${event.action}${event.error ? ` (${event.error})` : ''}\n`);
        break;
      case 'check_started':
      case 'done':
        break;
    }
  };
}

export function formatSummary(outcome: OnboardingOutcome, base: PublicBase): string {
  const lines: string[] = [''];
  if (!outcome.ok) {
    lines.push(`Onboarding ${outcome.clientId || 'the client'} failed: ${outcome.failure?.message ?? 'unknown'}`);
    lines.push(`Fix: ${outcome.failure?.fix ?? ''}`);
    if (outcome.rollbackFailed.length > 0) lines.push(`Not rolled back (fix in Retell): ${outcome.rollbackFailed.join('; ')}`);
    lines.push('Nothing was written.');
    return `${lines.join('\n')}\n`;
  }
  lines.push(outcome.dryRun ? `Dry run for ${outcome.clientId}: nothing was changed or written.` : `Client ${outcome.clientId} is onboarded${outcome.written ? ` (${outcome.written})` : ''}.`);
  const notice = publicBaseNotice(base);
  lines.push(notice ?? `Public URLs use ${base.url}, from ${base.source}.`);
  lines.push(`Webhook URL (agent and inbound): ${outcome.webhookUrl}`);
  lines.push('Function URLs:');
  for (const fn of outcome.functionUrls) lines.push(`  ${fn.name}  ${fn.url}`);
  if (outcome.retellSandboxed) lines.push('Retell: not contacted (test client without retell.api_base_url).');
  else if (outcome.dryRun) lines.push(outcome.plan.length === 0 ? 'Retell: no change needed.' : `Retell would change:\n${outcome.plan.map((p) => `  ${p}`).join('\n')}`);
  else lines.push(outcome.provisioned.length === 0 ? 'Retell: no change (already provisioned).' : `Provisioned in Retell:\n${outcome.provisioned.map((p) => `  ${p}`).join('\n')}`);
  if (outcome.envVariables.length > 0) lines.push(`The file refers to these environment variables: ${outcome.envVariables.join(' ')}`);
  if (outcome.nextSteps.length > 0) lines.push(`Next:\n${outcome.nextSteps.map((s) => `  ${s}`).join('\n')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `xlnc onboard [--from answers.json] [--id ID] [--name NAME] [--environment test|live] [--update] [--dry-run] [--secrets enc|env] [--store file|db] [--json]`
 *
 * `--store db` saves through the admin clients service (secrets sealed, versioned, audited as
 * "cli"); running servers load it on the Redis signal or, without Redis, on their next poll of
 * the table (2 s), so no restart is needed either way.
 */
export async function onboard(args: string[], io: CliIo, context: OnboardCliContext): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        from: { type: 'string' },
        id: { type: 'string' },
        name: { type: 'string' },
        environment: { type: 'string' },
        update: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        secrets: { type: 'string', default: 'enc' },
        store: { type: 'string', default: 'file' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${onboardUsage}`);
    return 2;
  }
  if (values.secrets !== 'enc' && values.secrets !== 'env') {
    io.stderr(`--secrets must be enc or env\n${onboardUsage}`);
    return 2;
  }
  if (values.store !== 'file' && values.store !== 'db') {
    io.stderr(`--store must be file or db\n${onboardUsage}`);
    return 2;
  }
  const store = values.store;
  if (store === 'db' && values.secrets === 'env') {
    io.stderr('--secrets env writes env: references into a client file; with --store db the database seals every secret itself\n');
    return 2;
  }
  if (store === 'db' && context.openClientStore === undefined) {
    io.stderr('--store db: the database is not available to this command\n');
    return 1;
  }
  let answers: Record<string, unknown>;
  if (values.from !== undefined) {
    try {
      answers = JSON.parse(await readFile(values.from, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      io.stderr(`cannot read ${values.from}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
      return 2;
    }
  } else if (context.ask !== undefined || process.stdin.isTTY) {
    answers = await (context.ask ?? askInteractively)();
  } else {
    io.stderr(`No terminal to ask on: pass --from answers.json\n${onboardUsage}`);
    return 2;
  }
  if (values.id !== undefined) answers.client_id = values.id;
  if (values.name !== undefined) answers.name = values.name;
  if (values.environment !== undefined) answers.environment = values.environment;

  // A Zoho calendar without a refresh token: connect it now (the link, the consent, our callback).
  const calendar = answers.calendar as { provider?: unknown; data_center?: unknown; oauth?: Record<string, unknown>; accounts_base_url?: unknown } | undefined;
  if (calendar?.provider === 'zoho' && calendar.oauth !== undefined && calendar.oauth.refresh_token === undefined) {
    const dataCenter = zohoDataCenters.find((dc) => dc === calendar.data_center);
    const secret = calendar.oauth.client_secret;
    const resolvedSecret = typeof secret === 'string' && secret.startsWith('env:') ? io.env[secret.slice(4)] : secret;
    if (dataCenter === undefined || typeof calendar.oauth.client_id !== 'string' || typeof resolvedSecret !== 'string' || resolvedSecret.startsWith('enc:')) {
      io.stderr('calendar: to connect Zoho, give calendar.data_center, calendar.oauth.client_id and calendar.oauth.client_secret (a value or env:NAME)\n');
      return 1;
    }
    const connected = await connectZohoFromCli(
      io,
      { clientId: (typeof answers.client_id === 'string' ? answers.client_id : ''), dataCenter, oauthClientId: calendar.oauth.client_id, oauthClientSecret: resolvedSecret, accountsBaseUrl: typeof calendar.accounts_base_url === 'string' ? calendar.accounts_base_url : undefined },
      context,
    );
    if (!connected.ok) {
      io.stderr(`Zoho connect failed: ${connected.error}. Nothing was written or provisioned.\n`);
      return 1;
    }
    calendar.oauth.refresh_token = connected.sealedRefreshToken;
  }

  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let opened: Awaited<ReturnType<NonNullable<OnboardCliContext['openClientStore']>>> | undefined;
  let outcome: OnboardingOutcome;
  try {
    if (store === 'db') opened = await context.openClientStore?.();
    // The CLI is its own actor in the audit log (actor "cli"), as `xlnc keys rotate` is.
    const writer = opened !== undefined ? createDbClientWriter(opened.clients, { userId: null, requestId: null }) : fileWriterAware(context.clientsDir, context.findDbClient, io);
    outcome = await onboardClient(
      answers,
      { update: values.update, dryRun: values['dry-run'], secrets: values.secrets },
      { ctx: providerContext(context.fetch), env: io.env, encryptionKeys: io.encryptionKeys, publicBaseUrl: context.publicBase.url, writer },
      printer(io, values.json),
    );
  } finally {
    await opened?.close();
  }
  if (!values.json) {
    // Wall clock and this process's own CPU (machine time), from the answers read to the client written.
    const cpu = process.cpuUsage(cpuStarted);
    io.stdout(`${formatSummary(outcome, context.publicBase)}(${Math.round(performance.now() - started)} ms, ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU)\n`);
  }
  return outcome.ok ? 0 : 1;
}

/** `xlnc zoho connect --client ID --data-center DC --oauth-client-id X [--accounts-base-url URL]` (client secret on stdin): prints the sealed refresh token for the client's file. */
export async function zohoConnectCommand(args: string[], io: CliIo, context: Pick<OnboardCliContext, 'openZohoConnect' | 'pollMs'>): Promise<number> {
  const { values } = parseArgs({ args, options: { client: { type: 'string' }, 'data-center': { type: 'string' }, 'oauth-client-id': { type: 'string' }, 'accounts-base-url': { type: 'string' } } });
  const dataCenter = zohoDataCenters.find((dc) => dc === values['data-center']);
  if (!values.client || !dataCenter || !values['oauth-client-id']) {
    io.stderr(`Usage: xlnc zoho connect --client <id> --data-center ${zohoDataCenters.join('|')} --oauth-client-id <id> [--accounts-base-url URL]  (the client secret on stdin)\n`);
    return 2;
  }
  const secret = (await (io.readStdin ?? readAll)()).replace(/\r?\n$/, '');
  if (secret === '') {
    io.stderr('pipe the Zoho OAuth client secret on stdin\n');
    return 2;
  }
  const connected = await connectZohoFromCli(io, { clientId: values.client, dataCenter, oauthClientId: values['oauth-client-id'], oauthClientSecret: secret, accountsBaseUrl: values['accounts-base-url'] }, context);
  if (!connected.ok) {
    io.stderr(`Zoho connect failed: ${connected.error}\n`);
    return 1;
  }
  io.stdout(`Put this in calendar.oauth.refresh_token (sealed with ENCRYPTION_KEY):\n${connected.sealedRefreshToken}\n`);
  return 0;
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const onboardUsage = 'Usage: xlnc onboard [--from answers.json] [--id ID] [--name NAME] [--environment test|live] [--update] [--dry-run] [--secrets enc|env] [--store file|db] [--json]\n';

/** `xlnc clients doctor <id>`: the checks again, and the drift from Retell. Exit 1 on a failure or drift. */
export async function clientsDoctor(client: { id: string; config: ResolvedClientConfig }, io: CliIo, context: Pick<OnboardCliContext, 'publicBase' | 'fetch'>): Promise<number> {
  io.stdout(`Checking ${client.id}\n`);
  const report = await doctorClient(client, { ctx: providerContext(context.fetch), publicBaseUrl: context.publicBase.url }, (event) => {
    if (event.type === 'check') io.stdout(formatCheck(event.result));
  });
  if (report.retellSandboxed) io.stdout('Drift: not checked (test client without retell.api_base_url)\n');
  else if (report.drift.length === 0) io.stdout('Drift: none (Retell matches this client)\n');
  else io.stdout(`Drift (Retell differs from this client; \`xlnc onboard --from <file> --update\` reconciles it):\n${report.drift.map((d) => `  ${d}\n`).join('')}`);
  const failures = report.checks.filter((c) => c.status === 'fail').length;
  io.stdout(`${report.ok ? 'OK' : `${failures} check(s) failed, ${report.drift.length} drift(s)`}\n`);
  return report.ok ? 0 : 1;
}

/**
 * `xlnc clients disable|enable <id>`: a client file gets its `status` set in place; a database-backed
 * client (no file of that id) changes through the admin clients service, versioned and audited as
 * the command line, like the console's Disable. Either way the server picks it up without a restart.
 */
export async function clientsSetStatus(
  id: string,
  status: 'active' | 'disabled',
  io: CliIo,
  clientsDir: string,
  openClientStore?: OnboardCliContext['openClientStore'],
): Promise<number> {
  const done = (unchanged: boolean, where: string) => {
    io.stdout(`${id}: ${unchanged ? `already ${status}` : status === 'disabled' ? `disabled (its calls are refused; ${where} is kept)` : 'enabled'}\n`);
    return 0;
  };
  try {
    return done((await setClientFileStatus(clientsDir, id, status)) === 'unchanged', 'the file');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      io.stderr(`cannot change ${id}: ${(error as Error).message}\n`);
      return 1;
    }
  }
  const opened = openClientStore === undefined ? undefined : await openClientStore().catch((error: unknown) => {
    io.stderr(`cannot change ${id}: no client file ${id}.json in ${clientsDir}, and the database is not available (${(error as Error).message})\n`);
    return null;
  });
  if (opened === null) return 1;
  if (opened === undefined) {
    io.stderr(`cannot change ${id}: no client file ${id}.json in ${clientsDir}\n`);
    return 1;
  }
  try {
    const current = await opened.clients.get(id);
    if (current.source !== 'db') {
      io.stderr(`cannot change ${id}: no client file ${id}.json in ${clientsDir}\n`);
      return 1;
    }
    const actor = { userId: null, requestId: null };
    if (current.status === status) return done(true, 'its configuration');
    if (status === 'disabled') await opened.clients.disable(actor, id, current.version ?? undefined);
    else await opened.clients.update(actor, id, { status: 'active' }, current.version ?? 0);
    return done(false, 'its configuration');
  } catch (error) {
    const notFound = error instanceof AppError && error.code === 'not_found';
    io.stderr(`cannot change ${id}: ${notFound ? `no client file ${id}.json in ${clientsDir} and no database client ${id}` : (error as Error).message}\n`);
    return 1;
  } finally {
    await opened.close();
  }
}

const list = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** The questions, in the order a person answers them; the answers have the client file's shape. */
async function askInteractively(): Promise<Record<string, unknown>> {
  const { input, password, select, confirm } = await import('@inquirer/prompts');
  const id = await input({ message: 'Client id (a-z, 0-9, -)', validate: (v) => /^[a-z0-9][a-z0-9-]{1,62}$/.test(v) || 'use a-z, 0-9 and -' });
  const name = await input({ message: 'Business name' });
  const industry = await select({ message: 'Industry', choices: ['general', 'medical', 'tax_preparation', 'salon'].map((value) => ({ value })) });
  const timezone = await input({ message: 'Time zone (IANA)', default: 'America/New_York' });
  const hours = await input({ message: 'Opening hours Monday to Friday', default: '09:00-17:00' });
  const environment = await select({ message: 'Environment', choices: [{ value: 'test' }, { value: 'live' }] });
  const apiKey = await password({ message: 'Retell API key', mask: '*' });
  const agentIds = list(await input({ message: 'Retell agent id(s), comma-separated' }));
  const phoneNumbers = list(await input({ message: 'Phone number(s) in E.164, comma-separated', default: '' }));
  const retellBase = await input({ message: 'Retell API base URL (empty for api.retellai.com)', default: '' });
  const answers: Record<string, unknown> = {
    client_id: id,
    name,
    industry,
    timezone,
    environment,
    business_hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [hours]])),
    retell: { api_key: apiKey, agent_ids: agentIds, phone_numbers: phoneNumbers, ...(retellBase ? { api_base_url: retellBase } : {}) },
  };
  const calendar = await select({ message: 'Calendar', choices: [{ value: 'internal', name: "internal (the platform's appointment book)" }, { value: 'zoho', name: 'Zoho Calendar' }] });
  answers.calendar =
    calendar === 'zoho'
      ? {
          provider: 'zoho',
          data_center: await select({ message: 'Zoho data center', choices: zohoDataCenters.map((value) => ({ value })) }),
          calendar_id: await input({ message: 'Zoho calendar uid' }),
          oauth: {
            client_id: await input({ message: 'Zoho OAuth client id' }),
            client_secret: await password({ message: 'Zoho OAuth client secret', mask: '*' }),
            refresh_token: await password({ message: 'Zoho refresh token', mask: '*' }),
          },
        }
      : { provider: 'internal' };
  const sms = await select({ message: 'SMS', choices: [{ value: 'none' }, { value: 'twilio' }, { value: 'text180' }] });
  if (sms === 'twilio') {
    answers.sms = { enabled: true, provider: 'twilio', account_sid: await input({ message: 'Twilio Account SID' }), auth_token: await password({ message: 'Twilio auth token', mask: '*' }), from_number: await input({ message: 'Sender number (E.164)' }) };
  } else if (sms === 'text180') {
    answers.sms = { enabled: true, provider: 'text180', auth_key: await password({ message: 'Text180 auth key', mask: '*' }), account_id: await input({ message: 'Text180 account id' }), short_code: await input({ message: 'Short code' }), keyword: await input({ message: 'Keyword' }) };
  }
  const email = await select({ message: 'Email', choices: [{ value: 'none' }, { value: 'sendgrid' }] });
  if (email === 'sendgrid') answers.email = { enabled: true, provider: 'sendgrid', api_key: await password({ message: 'SendGrid API key', mask: '*' }), from: await input({ message: 'From address' }) };
  const notify = await input({ message: 'Where call summaries go (email, empty for none)', default: '' });
  if (notify) answers.notifications = { business_email: notify };
  if (!(await confirm({ message: `Verify and onboard ${id} now?`, default: true }))) throw new Error('cancelled');
  return answers;
}
