/**
 * Platform admin operations on clients. File-defined clients are read-only here (409
 * `client_managed_by_file`); database-backed ones are created, changed (optimistic concurrency on
 * `version`) and disabled, each change audited in its own transaction and then loaded into the
 * registry of this and every other instance.
 */
import { eq } from 'drizzle-orm';
import type { ClientRecord } from '../clients/client.schema.ts';
import type { ClientRegistry } from '../clients/client-registry.ts';
import { clientConfigSchema, formatJsonPath, listSecretFields, type ClientConfig } from '../clients/client.schema.ts';
import { validateEmailTemplates, validateSmsTemplates } from '../integrations/templates/templates.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { integrationStatus } from '../platform/db/schema.ts';
import { AppError, type FieldIssue } from '../platform/errors.ts';
import { writeAudit } from './audit.service.ts';
import { changedSecretPaths, diffConfigs, isMasked, maskResolvedConfig, maskStoredConfig, sealForStorage, setAtPath } from './client-secrets.ts';
import { findClientConfig, insertClientConfig, listClientConfigs, updateClientConfig, type ClientConfigRow } from './db-clients.repo.ts';
import type { DbClientStore } from './db-clients.service.ts';
import { publicUrls } from '../platform/public-urls.ts';

/** Who is acting, for the audit log. */
export interface Actor {
  userId: string | null;
  requestId: string | null;
}

export interface IntegrationView {
  capability: string;
  provider: string;
  status: string;
  detail: string | null;
  updated_at: string;
}

export interface ClientSummary {
  id: string;
  name: string | null;
  status: 'active' | 'disabled' | 'invalid';
  source: 'file' | 'db';
  environment: string | null;
  /** Database-backed clients only: the value to send as `If-Match` / `version` when changing it. */
  version: number | null;
  webhook_url: string;
  health: {
    ok: boolean;
    issues: { path: string; message: string }[];
    integrations: IntegrationView[];
  };
}

export interface ClientDetail extends ClientSummary {
  /** The configuration with every secret masked; null when a file client cannot be parsed. */
  config: Record<string, unknown> | null;
}

export interface AdminClientsService {
  list(): Promise<ClientSummary[]>;
  get(id: string): Promise<ClientDetail>;
  create(actor: Actor, body: unknown): Promise<ClientDetail>;
  /**
   * Merges `patch` (RFC 7396) into the stored config; `secrets` replaces existing secrets by JSON
   * path with new plain values, sealed before storage and never echoed.
   */
  update(actor: Actor, id: string, patch: Record<string, unknown>, expectedVersion: number, secrets?: Readonly<Record<string, string>>): Promise<ClientDetail>;
  disable(actor: Actor, id: string, expectedVersion: number | undefined): Promise<ClientDetail>;
}

export interface AdminClientsOptions {
  tenancy: Tenancy;
  registry: ClientRegistry;
  dbClients: DbClientStore;
  /** Current key first (seals), then previous keys (open only). */
  encryptionKeys: readonly Buffer[];
  publicBaseUrl: string;
}

/**
 * Validates a candidate config as the loader will: the one client schema, then the template checks
 * (an SMS template that runs to many segments or names an unknown variable would make the loaded
 * client invalid, so it is refused here, before anything is written). 400 whose message lists the
 * first problems and whose `issues` list every one by JSON path.
 */
function parseConfig(candidate: unknown): ClientConfig {
  const parsed = clientConfigSchema.safeParse(candidate);
  const issues: FieldIssue[] = parsed.success
    ? [...validateSmsTemplates(parsed.data), ...validateEmailTemplates(parsed.data)]
    : parsed.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: formatJsonPath([...issue.path, key]), message: 'unknown key' }))
          : [{ path: formatJsonPath(issue.path), message: issue.message }],
      );
  if (parsed.success && issues.length === 0) return parsed.data;
  const message = issues
    .slice(0, 5)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  throw new AppError('invalid_payload', message, {}, issues.slice(0, 50));
}

/**
 * Puts new plain values into the secrets a config already has, by JSON path (`$.sms.auth_token`).
 * Only an existing secret can be replaced: adding a provider (and its credential) is the operator's.
 */
function replaceSecrets(config: Record<string, unknown>, stored: ClientConfig, secrets: Readonly<Record<string, string>>): void {
  const fields = new Map(listSecretFields(stored).map((field) => [formatJsonPath(field.path), field.path]));
  const issues: FieldIssue[] = [];
  for (const [path, value] of Object.entries(secrets)) {
    const at = fields.get(path);
    if (at === undefined) issues.push({ path, message: 'no secret is stored here to replace' });
    else if (value.trim() === '' || isMasked(value)) issues.push({ path, message: 'type the new secret' });
    else if (value.startsWith('env:') || value.startsWith('enc:')) issues.push({ path, message: 'send the plain secret; the API seals it' });
    else setAtPath(config, at, value);
  }
  if (issues.length > 0) throw new AppError('invalid_payload', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {}, issues);
}

/** RFC 7396 JSON merge patch: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

function storedConfig(row: ClientConfigRow): ClientConfig {
  // Stored configs were validated on write; parsing again restores defaults added since.
  const parsed = clientConfigSchema.safeParse(row.config);
  if (!parsed.success) throw new Error(`stored config of ${row.id} no longer validates`);
  return parsed.data;
}

/** The service as every route builds it: from the composition root's parts and its config. */
export function adminClientsServiceFrom(deps: {
  tenancy: AdminClientsOptions['tenancy'];
  registry: AdminClientsOptions['registry'];
  dbClients: AdminClientsOptions['dbClients'];
  config: Pick<AdminClientsOptions, 'encryptionKeys' | 'publicBaseUrl'>;
}): AdminClientsService {
  return createAdminClientsService({
    tenancy: deps.tenancy,
    registry: deps.registry,
    dbClients: deps.dbClients,
    encryptionKeys: deps.config.encryptionKeys,
    publicBaseUrl: deps.config.publicBaseUrl,
  });
}

export function createAdminClientsService(options: AdminClientsOptions): AdminClientsService {
  const { tenancy, registry, dbClients, encryptionKeys } = options;
  const sealingKey = encryptionKeys[0];
  const webhookUrl = publicUrls(options.publicBaseUrl).retellWebhook;

  const integrationsFor = async (clientId?: string): Promise<Map<string, IntegrationView[]>> => {
    const rows = await tenancy.withPlatform((tx) => {
      const query = tx.select().from(integrationStatus);
      return clientId === undefined ? query : query.where(eq(integrationStatus.clientId, clientId));
    });
    const byClient = new Map<string, IntegrationView[]>();
    for (const row of rows) {
      const list = byClient.get(row.clientId) ?? [];
      list.push({ capability: row.capability, provider: row.provider, status: row.status, detail: row.detail, updated_at: row.updatedAt.toISOString() });
      byClient.set(row.clientId, list);
    }
    return byClient;
  };

  const summary = (record: ClientRecord, version: number | null, integrations: IntegrationView[]): ClientSummary => ({
    id: record.id,
    name: record.config?.name ?? null,
    status: record.status,
    source: record.source,
    environment: record.config?.environment ?? null,
    version: record.source === 'db' ? version : null,
    webhook_url: webhookUrl(record.id),
    health: {
      ok: record.status !== 'invalid' && integrations.every((i) => i.status === 'ok'),
      issues: record.issues.map((issue) => ({ path: issue.path, message: issue.message })),
      integrations,
    },
  });

  /** A db row that the registry does not (yet) serve, e.g. right after a failed load. */
  const placeholderRecord = (row: ClientConfigRow): ClientRecord => ({
    id: row.id,
    source: 'db',
    status: 'invalid',
    config: null,
    issues: [{ file: `db:${row.id}`, path: '$', message: 'not loaded yet' }],
    configHash: '',
    loadedAt: new Date(),
  });

  const detailOf = async (id: string, row?: ClientConfigRow): Promise<ClientDetail> => {
    const record = registry.get(id);
    const integrations = (await integrationsFor(id)).get(id) ?? [];
    if (record?.source === 'file') {
      return {
        ...summary(record, null, integrations),
        config: record.config === null ? null : { ...maskResolvedConfig(record.config as ClientConfig) },
      };
    }
    const stored = row ?? (await tenancy.withPlatform((tx) => findClientConfig(tx, id)));
    if (stored === undefined) throw new AppError('not_found', `No client ${id}`);
    return {
      ...summary(record ?? placeholderRecord(stored), stored.version, integrations),
      config: { ...maskStoredConfig(storedConfig(stored), encryptionKeys) },
    };
  };

  const requireSealingKey = (): Buffer => {
    if (sealingKey === undefined) throw new AppError('service_unavailable', 'ENCRYPTION_KEY is not configured');
    return sealingKey;
  };

  /**
   * A custom host belongs to one client (the registry refuses a second too); 409 before anything is
   * written. The message names the holder (for the operator); the field issue does not, so a
   * client's own settings page can show it without naming another client.
   */
  const refuseTakenHost = (config: ClientConfig) => {
    const host = config.branding?.custom_host;
    const holder = host === undefined ? undefined : registry.byCustomHost(host);
    if (holder !== undefined && holder.id !== config.client_id) {
      throw new AppError(
        'conflict',
        `$.branding.custom_host: ${host} is already used by client "${holder.id}"; clients "${holder.id}" and "${config.client_id}" cannot share it`,
        {},
        [{ path: '$.branding.custom_host', message: `${host} is already used by another client` }],
      );
    }
  };

  const refuseFileClient = (id: string) => {
    if (registry.get(id)?.source === 'file') {
      throw new AppError('client_managed_by_file', `Client ${id} is defined by a config file; change the file instead`);
    }
  };

  /** Loads the committed change into the registries; the API answer does not wait on other instances. */
  const publish = async (id: string) => {
    await dbClients.changed(id);
  };

  return {
    async list() {
      const [rows, integrations] = await Promise.all([tenancy.withPlatform((tx) => listClientConfigs(tx)), integrationsFor()]);
      const versions = new Map(rows.map((row) => [row.id, row]));
      const seen = new Set<string>();
      const out: ClientSummary[] = [];
      for (const record of registry.list()) {
        seen.add(record.id);
        out.push(summary(record, versions.get(record.id)?.version ?? null, integrations.get(record.id) ?? []));
      }
      for (const row of rows) {
        if (!seen.has(row.id)) out.push(summary(placeholderRecord(row), row.version, integrations.get(row.id) ?? []));
      }
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    get: (id) => detailOf(id),

    async create(actor, body) {
      const config = parseConfig(body);
      refuseFileClient(config.client_id);
      refuseTakenHost(config);
      const sealed = sealForStorage(config, undefined, requireSealingKey());
      const row = await tenancy.withPlatform(async (tx) => {
        const inserted = await insertClientConfig(tx, config.client_id, sealed, actor.userId);
        if (inserted === undefined) throw new AppError('conflict', `Client ${config.client_id} already exists`);
        await writeAudit(tx, {
          actorUserId: actor.userId,
          action: 'client.create',
          clientId: config.client_id,
          targetId: config.client_id,
          diff: { changes: diffConfigs(undefined, maskStoredConfig(sealed, encryptionKeys), changedSecretPaths(undefined, sealed)) },
          requestId: actor.requestId,
        });
        return inserted;
      });
      await publish(row.id);
      return detailOf(row.id, row);
    },

    async update(actor, id, patch, expectedVersion, secrets = {}) {
      refuseFileClient(id);
      const row = await tenancy.withPlatform(async (tx) => {
        const current = await findClientConfig(tx, id, { forUpdate: true });
        if (current === undefined) throw new AppError('not_found', `No client ${id}`);
        if (current.version !== expectedVersion) {
          throw new AppError('conflict', `Client ${id} was changed meanwhile (version ${current.version}, you sent ${expectedVersion}); reload and retry`);
        }
        const before = storedConfig(current);
        // A deep copy: mergePatch shares untouched branches with `before`, which sealForStorage compares against.
        const merged = structuredClone(mergePatch(before, patch)) as Record<string, unknown>;
        if (merged.client_id !== id) throw new AppError('invalid_payload', '$.client_id: cannot be changed', {}, [{ path: '$.client_id', message: 'cannot be changed' }]);
        replaceSecrets(merged, before, secrets);
        const candidate = parseConfig(merged);
        refuseTakenHost(candidate);
        const after = sealForStorage(candidate, before, requireSealingKey());
        const updated = await updateClientConfig(tx, id, after, actor.userId, { bumpVersion: true });
        await writeAudit(tx, {
          actorUserId: actor.userId,
          action: 'client.update',
          clientId: id,
          targetId: id,
          diff: {
            version: updated.version,
            changes: diffConfigs(maskStoredConfig(before, encryptionKeys), maskStoredConfig(after, encryptionKeys), changedSecretPaths(before, after)),
          },
          requestId: actor.requestId,
        });
        return updated;
      });
      await publish(id);
      return detailOf(id, row);
    },

    async disable(actor, id, expectedVersion) {
      refuseFileClient(id);
      const row = await tenancy.withPlatform(async (tx) => {
        const current = await findClientConfig(tx, id, { forUpdate: true });
        if (current === undefined) throw new AppError('not_found', `No client ${id}`);
        if (expectedVersion !== undefined && current.version !== expectedVersion) {
          throw new AppError('conflict', `Client ${id} was changed meanwhile (version ${current.version}); reload and retry`);
        }
        const before = storedConfig(current);
        if (before.status === 'disabled') return current;
        const updated = await updateClientConfig(tx, id, { ...before, status: 'disabled' }, actor.userId, { bumpVersion: true });
        await writeAudit(tx, {
          actorUserId: actor.userId,
          action: 'client.disable',
          clientId: id,
          targetId: id,
          diff: { version: updated.version, changes: [{ path: '$.status', from: before.status, to: 'disabled' }] },
          requestId: actor.requestId,
        });
        return updated;
      });
      await publish(id);
      return detailOf(id, row);
    },
  };
}
