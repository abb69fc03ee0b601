/**
 * Platform configuration: the only reader of `process.env`. Validated once into a frozen object;
 * every problem is reported at once. Client configuration lives in config/clients, not here.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** 1 MiB: the largest request body any route accepts (Retell webhooks included). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** The OpenTelemetry sampler names this platform accepts in OTEL_TRACES_SAMPLER. */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Secrets that production must be given and development generates once. */
export const GENERATED_SECRETS = ['JWT_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY'] as const;
type SecretName = (typeof GENERATED_SECRETS)[number];

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const booleanFlag = z.preprocess(
  emptyAsUndefined,
  z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => v === 'true' || v === '1'),
);

/** pg-boss's schema by default, and what a schema name may be (it is written into SQL). */
export const DEFAULT_QUEUE_SCHEMA = 'pgboss';
export const QUEUE_SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

const envSchema = z.object({
  NODE_ENV: z.preprocess(emptyAsUndefined, z.enum(['development', 'test', 'production']).default('development')),
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65_535).default(3000)),
  HOST: z.preprocess(emptyAsUndefined, z.string().default('0.0.0.0')),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(LOG_LEVELS).optional()),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  /** PostgreSQL connections per process. Each webhook holds one for a single round trip. */
  DB_POOL_SIZE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).default(10)),
  /** pg-boss's schema in the database; one per deployment (two deployments may share a database). */
  QUEUE_SCHEMA: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(QUEUE_SCHEMA_PATTERN, 'must be a lower-case SQL identifier (letters, digits, _)')
      .default(DEFAULT_QUEUE_SCHEMA),
  ),
  REDIS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./data')),
  CLIENTS_DIR: z.preprocess(emptyAsUndefined, z.string().default('config/clients')),
  PUBLIC_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  CONFIG_STRICT: booleanFlag,
  JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_REFRESH_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .refine((v) => decodeKey(v) !== undefined, 'must be 32 bytes as 64 hex characters or base64')
      .optional(),
  ),
  /** Older keys still accepted for decryption while secrets are re-encrypted, comma-separated. */
  ENCRYPTION_KEYS_PREVIOUS: optionalString,
  /** Browser origins allowed to call the API (CORS), comma-separated; unset allows none. */
  CORS_ORIGINS: optionalString.pipe(
    z
      .string()
      .refine(
        (v) => splitList(v).every((origin) => isOrigin(origin)),
        'must be comma-separated origins like https://app.example.com (scheme, host and optional port only)',
      )
      .optional(),
  ),
  /**
   * Behind a load balancer: how many proxy hops to trust for the client IP (X-Forwarded-For),
   * used by per-IP login throttling. Unset trusts none, so the header cannot be forged.
   */
  TRUST_PROXY_HOPS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(10).default(0)),
  SHUTDOWN_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().default(10_000)),
  /** Operator alert emails go to these addresses (comma-separated); unset sends no alert email. */
  ALERT_EMAIL_TO: optionalString.pipe(
    z
      .string()
      .refine((v) => splitList(v).every((a) => z.email().safeParse(a).success), 'must be comma-separated email addresses')
      .optional(),
  ),
  /** The platform's own mail (alerts to the operator): SendGrid API key, sender, base URL, sandbox. */
  PLATFORM_SENDGRID_API_KEY: optionalString,
  PLATFORM_MAIL_FROM: z.preprocess(emptyAsUndefined, z.string().default('XLNC Alerts <alerts@xlnc.invalid>')),
  PLATFORM_SENDGRID_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  /** SendGrid's sandbox mode: the request is validated, nothing is delivered (default on outside production). */
  PLATFORM_MAIL_SANDBOX: booleanFlag,
  /** The platform's Slack-compatible incoming webhook for every client's alerts. */
  ALERT_SLACK_WEBHOOK_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  /** Remind about an alert still open (not acknowledged) after this many minutes. */
  ALERT_REMINDER_MINUTES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(10_080).default(240)),
  /**
   * The platform's own mail (invitations, password resets): `sandbox` writes each message to
   * DATA_DIR/mail instead of sending it; `sendgrid` sends it with MAIL_SENDGRID_API_KEY.
   */
  MAIL_PROVIDER: z.preprocess(emptyAsUndefined, z.enum(['sandbox', 'sendgrid']).default('sandbox')),
  MAIL_FROM: z.preprocess(emptyAsUndefined, z.string().min(3).default('XLNC Perception <no-reply@localhost>')),
  MAIL_SENDGRID_API_KEY: optionalString,
  /** SendGrid's API address for platform mail (a regional endpoint, or a local fake in tests). */
  MAIL_API_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  /** Run job workers inside the API process (default) or only in `xlnc worker`. */
  /** OTLP/HTTP base URL (spans go to $URL/v1/traces); unset turns tracing off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(
    emptyAsUndefined,
    z
      .url()
      .refine((v) => /^https?:\/\//.test(v), 'must be an http:// or https:// URL')
      .optional(),
  ),
  OTEL_SERVICE_NAME: z.preprocess(emptyAsUndefined, z.string().min(1).max(100).default('xlnc-perception')),
  /** Which traces are kept: the OpenTelemetry sampler names (parent-based follows an upstream decision). */
  OTEL_TRACES_SAMPLER: z.preprocess(emptyAsUndefined, z.enum(TRACE_SAMPLERS).default('parentbased_always_on')),
  /** The kept fraction for the *traceidratio samplers, 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.preprocess(emptyAsUndefined, z.coerce.number().min(0).max(1).default(1)),
  WORKERS_IN_PROCESS: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0'])
      .default('true')
      .transform((v) => v === 'true' || v === '1'),
  ),
});

export interface PlatformConfig {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly port: number;
  readonly host: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly databaseUrl: string | undefined;
  readonly dbPoolSize: number;
  readonly queueSchema: string;
  readonly redisUrl: string | undefined;
  readonly dataDir: string;
  readonly clientsDir: string;
  /** PUBLIC_BASE_URL, or http://localhost:$PORT; build URLs from it with platform/public-urls.ts. */
  readonly publicBaseUrl: string;
  /** Whether PUBLIC_BASE_URL is set (the default is only reachable from this machine). */
  readonly publicBaseUrlConfigured: boolean;
  readonly configStrict: boolean;
  readonly jwtSecret: string;
  readonly jwtRefreshSecret: string;
  /** Current key first, then previous keys (decryption only). */
  readonly encryptionKeys: readonly Buffer[];
  readonly shutdownTimeoutMs: number;
  readonly trustProxyHops: number;
  /** CORS_ORIGINS: exact browser origins allowed to call the API; empty allows none. */
  readonly corsOrigins: readonly string[];
  readonly workersInProcess: boolean;
  /** Operator notices about health alerts (src/alerts/). */
  readonly alerts: {
    readonly emailTo: readonly string[];
    readonly slackWebhookUrl: string | undefined;
    readonly reminderMinutes: number;
    /** The platform's mail: SendGrid, or none (no key: alert email is off). */
    readonly mail: { readonly apiKey: string; readonly from: string; readonly baseUrl: string | undefined; readonly sandbox: boolean } | undefined;
  };
  /** How the platform's own mail (invitations, password resets) leaves; see MAIL_PROVIDER. */
  readonly mail: PlatformMailConfig;
  /** OpenTelemetry tracing (platform/tracing.ts): off unless an OTLP endpoint is set. */
  readonly tracing: TracingConfig;
  /** Development secrets created by this start (first start, or one newly missing); empty in production. */
  readonly generatedSecrets: readonly string[];
  /** Every secret taken from the development file rather than the environment (generated now or earlier). */
  readonly developmentSecrets: readonly string[];
  readonly generatedSecretsFile: string | undefined;
  /** A frozen snapshot of the environment, for client configs' `env:VAR` references. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_ENDPOINT without a trailing slash; undefined: no exporter, tracing off. */
  readonly otlpEndpoint: string | undefined;
  readonly serviceName: string;
  readonly sampler: TraceSampler;
  /** 0 to 1: the fraction of traces kept by the *traceidratio samplers. */
  readonly samplerRatio: number;
}

export type PlatformMailConfig =
  | { readonly provider: 'sandbox'; readonly from: string }
  | { readonly provider: 'sendgrid'; readonly from: string; readonly apiKey: string; readonly apiBaseUrl: string | undefined };

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid platform configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text;
  } catch {
    return false;
  }
}

/** 32-byte key from 64 hex characters or base64; undefined when it is neither. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const bytes = Buffer.from(trimmed, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

function generateSecret(name: SecretName): string {
  return name === 'ENCRYPTION_KEY' ? randomBytes(32).toString('hex') : randomBytes(48).toString('base64url');
}

/**
 * Development only: secrets generated on first start and kept in DATA_DIR (mode 0600), so tokens
 * and encrypted values survive restarts.
 */
function developmentSecrets(dataDir: string, missing: SecretName[]): { values: Record<string, string>; file: string; generated: SecretName[] } {
  const file = join(dataDir, 'dev-secrets.json');
  let stored: Record<string, string> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const generated: SecretName[] = [];
  for (const name of missing) {
    if (!stored[name]) {
      stored[name] = generateSecret(name);
      generated.push(name);
    }
  }
  if (generated.length > 0) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { values: stored, file, generated };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function loadPlatformConfig(env: Readonly<Record<string, string | undefined>> = process.env): PlatformConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const missing = GENERATED_SECRETS.filter((name) => !e[name]);
  const dataDir = resolve(e.DATA_DIR);
  let generated: Record<string, string> = {};
  let generatedFile: string | undefined;
  let generatedNow: SecretName[] = [];
  if (missing.length > 0) {
    if (e.NODE_ENV === 'production') {
      throw new ConfigError(missing.map((name) => `${name} is required when NODE_ENV=production`));
    }
    const dev = developmentSecrets(dataDir, missing);
    generated = dev.values;
    generatedFile = dev.file;
    generatedNow = dev.generated;
  }
  const pick = (name: SecretName) => e[name] ?? generated[name] ?? '';
  const previous = (e.ENCRYPTION_KEYS_PREVIOUS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const badPrevious = previous.filter((k) => decodeKey(k) === undefined);
  if (badPrevious.length > 0) {
    throw new ConfigError([`ENCRYPTION_KEYS_PREVIOUS: ${badPrevious.length} key(s) are not 32 bytes as hex or base64`]);
  }
  if (e.MAIL_PROVIDER === 'sendgrid' && !e.MAIL_SENDGRID_API_KEY) {
    throw new ConfigError(['MAIL_SENDGRID_API_KEY is required when MAIL_PROVIDER=sendgrid']);
  }
  const mail: PlatformMailConfig =
    e.MAIL_PROVIDER === 'sendgrid'
      ? { provider: 'sendgrid', from: e.MAIL_FROM, apiKey: e.MAIL_SENDGRID_API_KEY ?? '', apiBaseUrl: e.MAIL_API_BASE_URL }
      : { provider: 'sandbox', from: e.MAIL_FROM };
  const port = e.PORT;
  const config: PlatformConfig = {
    nodeEnv: e.NODE_ENV,
    port,
    host: e.HOST,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    databaseUrl: e.DATABASE_URL,
    dbPoolSize: e.DB_POOL_SIZE,
    queueSchema: e.QUEUE_SCHEMA,
    redisUrl: e.REDIS_URL,
    dataDir,
    clientsDir: resolve(e.CLIENTS_DIR),
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    publicBaseUrlConfigured: e.PUBLIC_BASE_URL !== undefined,
    configStrict: e.CONFIG_STRICT,
    jwtSecret: pick('JWT_SECRET'),
    jwtRefreshSecret: pick('JWT_REFRESH_SECRET'),
    encryptionKeys: [pick('ENCRYPTION_KEY'), ...previous].map((k) => decodeKey(k) as Buffer),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    corsOrigins: splitList(e.CORS_ORIGINS ?? ''),
    workersInProcess: e.WORKERS_IN_PROCESS,
    alerts: {
      emailTo: splitList(e.ALERT_EMAIL_TO ?? ''),
      slackWebhookUrl: e.ALERT_SLACK_WEBHOOK_URL,
      reminderMinutes: e.ALERT_REMINDER_MINUTES,
      mail: e.PLATFORM_SENDGRID_API_KEY
        ? {
            apiKey: e.PLATFORM_SENDGRID_API_KEY,
            from: e.PLATFORM_MAIL_FROM,
            baseUrl: e.PLATFORM_SENDGRID_BASE_URL,
            sandbox: env.PLATFORM_MAIL_SANDBOX === undefined || env.PLATFORM_MAIL_SANDBOX === '' ? e.NODE_ENV !== 'production' : e.PLATFORM_MAIL_SANDBOX,
          }
        : undefined,
    },
    mail,
    tracing: {
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ''),
      serviceName: e.OTEL_SERVICE_NAME,
      sampler: e.OTEL_TRACES_SAMPLER,
      samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
    },
    generatedSecrets: generatedNow,
    developmentSecrets: missing,
    generatedSecretsFile: generatedFile,
    env: { ...env },
  };
  return deepFreeze(config);
}
