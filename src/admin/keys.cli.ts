/**
 * `xlnc keys rotate`: re-seals every stored secret of database-backed clients with the current
 * ENCRYPTION_KEY. Run it after moving the old key to ENCRYPTION_KEYS_PREVIOUS; each ciphertext's
 * key id picks the key that opens it. Once it reports nothing left, the old key can be dropped.
 * Client files are not touched: re-seal their `enc:v1:` values with `xlnc secrets encrypt`.
 */
import { parseArgs } from 'node:util';
import { loadPlatformConfig } from '../platform/config.ts';
import { openDatabase, type Database } from '../platform/db/database.ts';
import { createTenancy } from '../platform/db/tenancy.ts';
import { clientConfigSchema } from '../clients/client.schema.ts';
import type { CliIo } from '../clients/clients.cli.ts';
import { encryptionKeyId } from '../platform/secrets.ts';
import { writeAudit } from './audit.service.ts';
import { resealConfig } from './client-secrets.ts';
import { findClientConfig, listClientConfigs, updateClientConfig } from './db-clients.repo.ts';

export interface KeysCliContext {
  /** An open database (tests); by default the one named by the environment. */
  database?: Database;
}

/** `xlnc keys rotate [--client <id>]` */
export async function keysRotate(args: string[], io: CliIo, ctx: KeysCliContext = {}): Promise<number> {
  const { values } = parseArgs({ args, options: { client: { type: 'string' } } });
  const current = io.encryptionKeys[0];
  if (current === undefined) {
    io.stderr('ENCRYPTION_KEY is not set\n');
    return 1;
  }
  let database = ctx.database;
  if (database === undefined) {
    const config = loadPlatformConfig();
    database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  }
  try {
    if (ctx.database === undefined) await database.migrate();
    const tenancy = createTenancy(database);
    const ids = (await tenancy.withPlatform((tx) => listClientConfigs(tx)))
      .map((row) => row.id)
      .filter((id) => values.client === undefined || id === values.client);
    let resealed = 0;
    let failed = 0;
    for (const id of ids) {
      try {
        resealed += await tenancy.withPlatform(async (tx) => {
          const row = await findClientConfig(tx, id, { forUpdate: true });
          if (row === undefined) return 0;
          const result = resealConfig(clientConfigSchema.parse(row.config), current, io.encryptionKeys);
          if (result.resealed === 0) return 0;
          // The plain values are unchanged, so the version (the ETag admins hold) stays.
          await updateClientConfig(tx, id, result.config, null, { bumpVersion: false });
          await writeAudit(tx, {
            actorUserId: null,
            action: 'keys.rotate',
            clientId: id,
            targetId: id,
            diff: { resealed: result.resealed, key_id: encryptionKeyId(current) },
          });
          return result.resealed;
        });
      } catch (error) {
        failed += 1;
        // decryptSecret's messages name key ids only, never values.
        io.stderr(`${id}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    io.stdout(`Re-sealed ${resealed} secret(s) in ${ids.length} database client(s) with key ${encryptionKeyId(current)}${failed ? `; ${failed} client(s) failed` : ''}\n`);
    return failed > 0 ? 1 : 0;
  } finally {
    if (ctx.database === undefined) await database.close();
  }
}
