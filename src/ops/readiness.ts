import { ne } from 'drizzle-orm';
import type { Deps } from '../deps.ts';
import { integrationStatus } from '../platform/db/schema.ts';

interface Check {
  ok: boolean;
  detail?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  /** Driver messages in `detail` (they may carry SQL text): for platform admins only, see publicReadiness. */
  checks: { database: Check; migrations: Check; redis?: Check };
  clients: {
    total: number;
    active: string[];
    disabled: string[];
    invalid: { id: string; source: string; issues: { file?: string; path: string; message: string }[] }[];
    /** Provider integrations in trouble (e.g. a revoked Zoho grant); the client still serves. */
    integration_errors: { client_id: string; capability: string; provider: string; detail: string | null }[];
  };
}

const CHECK_TIMEOUT_MS = 2000;

async function probe(work: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    const result = await Promise.race([work(), timeout]);
    return result === false ? { ok: false, detail: 'pending migrations' } : { ok: true };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : 'failed' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ready means: the database answers, every migration is applied, Redis answers when configured.
 * Invalid clients are listed with their reasons but do not make the instance unready: every
 * other client is served normally.
 */
export async function checkReadiness(deps: Deps): Promise<ReadinessReport> {
  const [database, migrations, redis] = await Promise.all([
    probe(() => deps.database.ping()),
    probe(() => deps.database.migrationsApplied()),
    deps.redis ? probe(() => deps.redis!.ping()) : Promise.resolve(undefined),
  ]);
  const records = deps.registry.list();
  const integrationErrors = database.ok
    ? await deps.tenancy
        .withPlatform((tx) => tx.select().from(integrationStatus).where(ne(integrationStatus.status, 'ok')))
        .catch(() => [])
    : [];
  const clients: ReadinessReport['clients'] = {
    total: records.length,
    active: [],
    disabled: [],
    invalid: [],
    integration_errors: integrationErrors.map((row) => ({
      client_id: row.clientId,
      capability: row.capability,
      provider: row.provider,
      detail: row.detail,
    })),
  };
  for (const record of records) {
    if (record.status === 'invalid') {
      clients.invalid.push({
        id: record.id,
        source: record.source,
        issues: record.issues.map((i) => ({ file: i.file, path: i.path, message: i.message })),
      });
    } else {
      clients[record.status].push(record.id);
    }
  }
  const checks: ReadinessReport['checks'] = { database, migrations, ...(redis ? { redis } : {}) };
  // Redis is optional: without it caches, rate limits and signals run on process-local state, so
  // an instance whose Redis is down still serves and must stay in the load balancer.
  const ok = database.ok && migrations.ok;
  return { status: ok ? 'ready' : 'not_ready', checks, clients };
}

/** What anyone may see: ready or not, and why in general terms (no driver text, client ids or file paths). */
export interface PublicReadiness {
  status: ReadinessReport['status'];
  checks: { database: Check; migrations: Check; redis?: Check };
}

export function publicReadiness(report: ReadinessReport): PublicReadiness {
  const { database, migrations, redis } = report.checks;
  return {
    status: report.status,
    checks: {
      database: database.ok ? { ok: true } : { ok: false, detail: 'the database is unreachable' },
      migrations: migrations.ok ? { ok: true } : { ok: false, detail: database.ok ? 'migrations are pending' : 'unknown while the database is unreachable' },
      ...(redis ? { redis: redis.ok ? { ok: true } : { ok: false, detail: 'Redis is unreachable; caches, rate limits and signals run on process-local state' } } : {}),
    },
  };
}
