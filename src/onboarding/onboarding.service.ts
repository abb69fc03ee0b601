/**
 * Onboarding in one step, shared by `xlnc onboard` and the console's "Add client": parse the
 * answers → verify every part live → plan the Retell changes → provision them (rolled back on a
 * failure half-way) → write the client (a file written atomically, or the database through the
 * admin service). Each step reports progress events as it runs. Nothing is written and nothing is
 * provisioned unless every check passed; `dryRun` stops after the plan.
 *
 * `doctorClient` re-runs the checks for an existing client and reports the drift between its
 * configuration and Retell's (the plan it would apply), without changing anything.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { parseClientSource } from '../clients/client-loader.ts';
import { clientConfigSchema, clientIdPattern, formatJsonPath, listSecretFields, type ResolvedClientConfig } from '../clients/client.schema.ts';
import { retellToolsFor } from '../functions/tool-definitions.ts';
import type { ProviderContext } from '../platform/provider-http.ts';
import { publicUrls } from '../platform/public-urls.ts';
import { encryptSecret, isSealedSecret } from '../platform/secrets.ts';
import { runChecks, type CheckPart, type CheckResult, type CheckRun } from './onboarding.checks.ts';
import { applyPlan, describeAction, planRetell, type PlanAction } from './retell-plan.ts';

export type OnboardingEvent =
  | { type: 'step'; step: 'parse' | 'verify' | 'plan' | 'provision' | 'write'; message: string }
  | { type: 'check_started'; id: string; part: CheckPart; label: string }
  | { type: 'check'; result: CheckResult }
  | { type: 'plan'; actions: string[] }
  | { type: 'provision'; action: string; status: 'applied' | 'failed' | 'rolled_back' | 'rollback_failed'; error?: string }
  | { type: 'done'; outcome: OnboardingOutcome };

export interface OnboardingFailure {
  part: CheckPart | 'client' | 'provision' | 'write';
  message: string;
  fix: string;
}

export interface OnboardingOutcome {
  ok: boolean;
  clientId: string;
  dryRun: boolean;
  failure?: OnboardingFailure;
  checks: CheckResult[];
  /** The Retell changes planned (and, unless dry-run or failed, made). */
  plan: string[];
  provisioned: string[];
  rolledBack: string[];
  /** Changes that could not be put back after a failure: fix these in Retell by hand. */
  rollbackFailed: string[];
  /** Where the client was written: a file path or "database". */
  written?: string;
  /** Environment variables the written file refers to (`--secrets env`): set them where the server runs. */
  envVariables: string[];
  webhookUrl: string;
  functionUrls: Array<{ name: string; url: string }>;
  /** True when Retell is not contacted (a test client without retell.api_base_url). */
  retellSandboxed: boolean;
  nextSteps: string[];
}

export interface ClientWriter {
  /** Where the client is defined now, if anywhere (file or database). */
  existing(id: string): Promise<'file' | 'db' | undefined>;
  /** Writes the whole client; `secrets` is the config with secrets as they are to be stored. Returns where. */
  write(id: string, config: Record<string, unknown>, mode: 'create' | 'update'): Promise<string>;
  /** The database seals literal secrets itself; a file needs them sealed or referenced first. */
  readonly sealsSecrets: boolean;
}

export interface OnboardingDeps {
  ctx: ProviderContext;
  env: Readonly<Record<string, string | undefined>>;
  /** Current key first (seals), then previous keys (open only). */
  encryptionKeys: readonly Buffer[];
  publicBaseUrl: string;
  writer: ClientWriter;
  timeoutMs?: number;
}

export interface OnboardingOptions {
  update?: boolean;
  dryRun?: boolean;
  /** How a literal secret in the answers is stored in a file: sealed (`enc:`, default) or an `env:` reference. */
  secrets?: 'enc' | 'env';
}

const silent = pino({ level: 'silent' });

type Path = readonly (string | number)[];

function setAtPath(target: Record<string, unknown>, path: Path, value: unknown): void {
  let node: Record<string | number, unknown> = target;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

function getAtPath(source: unknown, path: Path): unknown {
  let node = source;
  for (const segment of path) node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[segment] : undefined;
  return node;
}

/** `XLNC_BRIGHT_SMILE_RETELL_API_KEY` for client bright-smile, path retell.api_key. */
export function envVariableFor(clientId: string, path: Path): string {
  return `XLNC_${clientId}_${path.join('_')}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** The URLs Retell is given for a client, and the tools, from the one builder. */
function desiredFor(client: { id: string; config: ResolvedClientConfig }, publicBaseUrl: string) {
  const urls = publicUrls(publicBaseUrl);
  const webhookUrl = urls.retellWebhook(client.id);
  const tools = retellToolsFor(client, publicBaseUrl);
  const functionsPrefix = `${webhookUrl}/functions/`;
  return {
    desired: { webhookUrl, agentIds: client.config.retell.agent_ids, phoneNumbers: client.config.retell.phone_numbers, tools: [...tools], ownsToolUrl: (url: string) => url.startsWith(functionsPrefix) },
    functionUrls: tools.map((t) => ({ name: t.name, url: t.url })),
  };
}

const partOfPath = (path: string): CheckPart => {
  const head = /^\$\.(\w+)/.exec(path)?.[1];
  return head === 'retell' || head === 'calendar' || head === 'sms' || head === 'email' || head === 'templates' ? head : 'config';
};

export async function onboardClient(answers: unknown, options: OnboardingOptions, deps: OnboardingDeps, emit: (event: OnboardingEvent) => void = () => undefined): Promise<OnboardingOutcome> {
  const dryRun = options.dryRun === true;
  const rawId = typeof answers === 'object' && answers !== null ? (answers as { client_id?: unknown }).client_id : undefined;
  const clientId = typeof rawId === 'string' ? rawId : '';
  const outcome: OnboardingOutcome = {
    ok: false,
    clientId,
    dryRun,
    checks: [],
    plan: [],
    provisioned: [],
    rolledBack: [],
    rollbackFailed: [],
    envVariables: [],
    webhookUrl: clientIdPattern.test(clientId) ? publicUrls(deps.publicBaseUrl).retellWebhook(clientId) : '',
    functionUrls: [],
    retellSandboxed: false,
    nextSteps: [],
  };
  const finish = (failure?: OnboardingFailure): OnboardingOutcome => {
    if (failure) outcome.failure = failure;
    outcome.ok = failure === undefined;
    emit({ type: 'done', outcome });
    return outcome;
  };
  const checkResult = (result: CheckResult) => {
    outcome.checks.push(result);
    emit({ type: 'check', result });
  };

  // 1. Parse: the one client schema, then the loader's own secret resolution.
  emit({ type: 'step', step: 'parse', message: 'Reading the answers' });
  if (typeof answers !== 'object' || answers === null || Array.isArray(answers)) {
    return finish({ part: 'config', message: 'the answers must be a JSON object (the client file format)', fix: 'see config/client.schema.json' });
  }
  const parsed = clientConfigSchema.safeParse(answers);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 10)) {
      const path = formatJsonPath(issue.path);
      checkResult({ id: `config.${path}`, part: partOfPath(path), label: `Answer ${path}`, status: 'fail', detail: issue.message, fix: `fix ${path} in the answers` });
    }
    const first = outcome.checks[0];
    return finish({ part: first?.part ?? 'config', message: `the answers are not a valid client: ${first?.label ?? ''}: ${first?.detail ?? ''}`, fix: first?.fix ?? 'fix the answers' });
  }
  const where = await deps.writer.existing(clientId);
  if (where !== undefined && !options.update) {
    return finish({ part: 'client', message: `client ${clientId} already exists (${where === 'file' ? 'a client file' : 'in the database'})`, fix: 'choose another id, or pass --update to reconcile the existing client' });
  }
  if (where === 'file' && deps.writer.sealsSecrets) {
    return finish({ part: 'client', message: `client ${clientId} is defined by a client file, not the database`, fix: 'update it with `xlnc onboard --update` without --store db (it rewrites the file), or remove the file first' });
  }
  if (where === 'db' && !deps.writer.sealsSecrets) {
    return finish({ part: 'client', message: `client ${clientId} is stored in the database, not in a client file`, fix: 'update it with `xlnc onboard --store db --update` (or the console), so no file shadows the database-backed client' });
  }
  // Literal secrets are sealed with a one-off key for the check, so a live client's answers (which
  // hold the secrets as typed) go through exactly the loader a client file goes through.
  const scratchKey = randomBytes(32);
  const literalPaths = listSecretFields(parsed.data)
    .filter((f) => !f.value.startsWith('env:') && !isSealedSecret(f.value))
    .map((f) => f.path);
  const checkable = structuredClone(answers) as Record<string, unknown>;
  for (const path of literalPaths) {
    const field = listSecretFields(parsed.data).find((f) => f.path.join('.') === path.join('.'));
    if (field) setAtPath(checkable, path, encryptSecret(field.value, scratchKey));
  }
  const loaded = parseClientSource(`${clientId}.json`, Buffer.from(JSON.stringify(checkable)), { env: deps.env, encryptionKeys: [scratchKey, ...deps.encryptionKeys], logger: silent });
  if (!loaded.config) {
    for (const issue of loaded.issues.slice(0, 10)) checkResult({ id: `config.${issue.path}`, part: partOfPath(issue.path), label: `Answer ${issue.path}`, status: 'fail', detail: issue.message, fix: `fix ${issue.path}` });
    const first = outcome.checks[0];
    return finish({ part: first?.part ?? 'config', message: `${first?.label ?? 'the answers'}: ${first?.detail ?? 'invalid'}`, fix: first?.fix ?? 'fix the answers' });
  }
  const client = { id: clientId, config: loaded.config };
  // Decide how secrets are stored before anything is touched, so a missing key fails early.
  const secretsMode = options.secrets ?? 'enc';
  const sealingKey = deps.encryptionKeys[0];
  if (!deps.writer.sealsSecrets && secretsMode === 'enc' && sealingKey === undefined && literalPaths.length > 0 && client.config.environment === 'live') {
    return finish({ part: 'write', message: 'a live client’s secrets must be sealed, and ENCRYPTION_KEY is not set', fix: 'set ENCRYPTION_KEY (openssl rand -hex 32), or pass --secrets env to write env: references' });
  }
  const { desired, functionUrls } = desiredFor(client, deps.publicBaseUrl);
  outcome.functionUrls = functionUrls;

  // 2. Verify each part live.
  emit({ type: 'step', step: 'verify', message: 'Checking each part live' });
  const run: CheckRun = await runChecks(client, {
    ctx: deps.ctx,
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    onStart: (check) => emit({ type: 'check_started', ...check }),
    onCheck: checkResult,
  });
  outcome.retellSandboxed = outcome.checks.some((c) => c.id === 'retell.key' && c.status === 'skip');
  const failed = run.results.find((r) => r.status === 'fail');
  if (failed) return finish({ part: failed.part, message: `${failed.label}: ${failed.detail}`, fix: failed.fix ?? 'fix it and run again' });

  // 3. Plan.
  let actions: PlanAction[] = [];
  if (run.retell) {
    emit({ type: 'step', step: 'plan', message: 'Comparing with Retell' });
    actions = await planRetell(run.retell, desired);
    outcome.plan = actions.map(describeAction);
    emit({ type: 'plan', actions: outcome.plan });
  }
  if (dryRun) {
    outcome.nextSteps = ['run again without --dry-run to make these changes and write the client'];
    return finish();
  }

  // 4. Provision (rolled back on a failure half-way).
  if (run.retell && actions.length > 0) {
    emit({ type: 'step', step: 'provision', message: `Provisioning Retell (${actions.length} change(s))` });
    const applied = await applyPlan(run.retell, actions, (action, status, error) => emit({ type: 'provision', action: describeAction(action), status, ...(error !== undefined ? { error } : {}) }));
    outcome.rolledBack = applied.rolledBack.map(describeAction);
    outcome.rollbackFailed = applied.rollbackFailed.map((r) => `${describeAction(r.action)} (${r.error})`);
    if (applied.failed) {
      const undone = applied.rollbackFailed.length === 0 ? 'every change made before it was rolled back; Retell is as it was' : `${applied.rollbackFailed.length} change(s) could not be rolled back: see rollbackFailed`;
      return finish({ part: 'provision', message: `Retell refused: ${describeAction(applied.failed.action)}: ${applied.failed.error}; ${undone}; nothing was written`, fix: 'run the same command again: it re-plans from Retell’s current state' });
    }
    outcome.provisioned = applied.applied.map(describeAction);
  }

  // 5. Write.
  emit({ type: 'step', step: 'write', message: deps.writer.sealsSecrets ? 'Saving the client in the database' : 'Writing the client file' });
  const stored = structuredClone(answers) as Record<string, unknown>;
  if (deps.writer.sealsSecrets) {
    // The database store takes plain secrets and seals them itself (it refuses env: and enc:
    // values): hand it what the loader resolved, e.g. a Zoho refresh token sealed by Zoho connect.
    for (const field of listSecretFields(parsed.data)) setAtPath(stored, field.path, getAtPath(client.config, field.path));
  } else {
    for (const field of listSecretFields(parsed.data)) {
      if (!literalPaths.some((p) => p.join('.') === field.path.join('.'))) continue;
      if (secretsMode === 'env') {
        const name = envVariableFor(clientId, field.path);
        setAtPath(stored, field.path, `env:${name}`);
        outcome.envVariables.push(name);
      } else if (sealingKey !== undefined) {
        setAtPath(stored, field.path, encryptSecret(field.value, sealingKey));
      }
      // else: a test client without ENCRYPTION_KEY keeps the literal (allowed for test clients only).
    }
  }
  try {
    outcome.written = await deps.writer.write(clientId, stored, where === undefined ? 'create' : 'update');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let undo = '';
    if (run.retell && outcome.provisioned.length > 0) {
      // The changes reversed on the draft, then published again, so live calls are back where they were.
      const reversed = [...actions].filter((a) => a.kind !== 'agent_publish').reverse().map(reverseAction);
      const back = await applyPlan(run.retell, [...reversed, ...actions.filter((a) => a.kind === 'agent_publish')]);
      undo = back.failed ? '; rolling back Retell failed too: run `xlnc clients doctor`' : '; the Retell changes were rolled back';
      outcome.rolledBack = outcome.provisioned;
      outcome.provisioned = [];
    }
    return finish({ part: 'write', message: `the client could not be written: ${message}${undo}`, fix: 'fix the cause and run again' });
  }
  outcome.nextSteps = [
    ...(outcome.envVariables.length > 0 ? [`set ${outcome.envVariables.join(', ')} where the server runs (the file refers to them)`] : []),
    ...(outcome.retellSandboxed ? ['test client: Retell was not contacted; paste the webhook URL into the agent and the numbers yourself, or set retell.api_base_url'] : []),
    `try it: npx xlnc simulate-call --client ${clientId} --scenario booked`,
    `check it any time: npx xlnc clients doctor ${clientId}`,
  ];
  return finish();
}

function reverseAction(action: PlanAction): PlanAction {
  switch (action.kind) {
    case 'agent_webhook':
      return { ...action, from: action.to, to: action.from ?? '' };
    case 'llm_tools':
      return { ...action, from: action.to, to: action.from };
    case 'number_webhook':
      return { ...action, from: action.to, to: action.from ?? '' };
    case 'number_agent':
      return { ...action, from: action.to, to: action.from };
    case 'agent_publish':
      return action;
  }
}

export interface DoctorReport {
  clientId: string;
  checks: CheckResult[];
  /** What differs between the client's configuration and Retell's (the changes onboarding would make). */
  drift: string[];
  retellSandboxed: boolean;
  ok: boolean;
}

/** Re-runs the checks for a client and reports drift from Retell; changes nothing. */
export async function doctorClient(client: { id: string; config: ResolvedClientConfig }, deps: Pick<OnboardingDeps, 'ctx' | 'publicBaseUrl' | 'timeoutMs'>, emit: (event: OnboardingEvent) => void = () => undefined): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const run = await runChecks(client, {
    ctx: deps.ctx,
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    onStart: (check) => emit({ type: 'check_started', ...check }),
    onCheck: (result) => {
      checks.push(result);
      emit({ type: 'check', result });
    },
  });
  let drift: string[] = [];
  if (run.retell) {
    drift = (await planRetell(run.retell, desiredFor(client, deps.publicBaseUrl).desired)).map(describeAction);
    emit({ type: 'plan', actions: drift });
  }
  return { clientId: client.id, checks, drift, retellSandboxed: checks.some((c) => c.id === 'retell.key' && c.status === 'skip'), ok: run.ok && drift.length === 0 };
}
