/**
 * `xlnc analytics rebuild [--client <id>]`: recomputes the analytics rollups from the stored
 * calls, appointments, messages and function calls. Migration 0019 fills them once and triggers
 * keep them in step afterwards, so this is for repairs (rows changed with triggers disabled, a
 * restored dump) or after the outcome rule changes. Writers of those tables wait while it runs.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../clients/clients.cli.ts';
import { clientIdPattern } from '../clients/client.schema.ts';
import { loadPlatformConfig } from '../platform/config.ts';
import { openDatabase, type Database } from '../platform/db/database.ts';
import { createTenancy } from '../platform/db/tenancy.ts';
import { rebuildRollups } from './analytics.repo.ts';

export interface AnalyticsCliContext {
  /** An open database (tests); by default the one named by the environment. */
  database?: Database;
}

export async function analyticsRebuild(args: string[], io: CliIo, ctx: AnalyticsCliContext = {}): Promise<number> {
  let client: string | undefined;
  try {
    client = parseArgs({ args, options: { client: { type: 'string' } } }).values.client;
  } catch {
    io.stderr('Usage: xlnc analytics rebuild [--client <id>]\n');
    return 2;
  }
  if (client !== undefined && !clientIdPattern.test(client)) {
    io.stderr(`"${client}" is not a client id (a-z, 0-9 and "-").\n`);
    return 2;
  }
  let database = ctx.database;
  if (database === undefined) {
    const config = loadPlatformConfig();
    database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  }
  try {
    if (ctx.database === undefined) await database.migrate();
    const tenancy = createTenancy(database);
    const started = Date.now();
    if (client === undefined) await tenancy.withPlatform((tx) => rebuildRollups(tx, null));
    else await tenancy.withTenant(client, (tx) => rebuildRollups(tx, client));
    io.stdout(`Analytics rollups rebuilt for ${client === undefined ? 'every client' : `client ${client}`} in ${Date.now() - started} ms.\n`);
    return 0;
  } finally {
    if (ctx.database === undefined) await database.close();
  }
}
