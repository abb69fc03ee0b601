import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../../test/helpers/paths.ts';
import { tempDir } from '../../../test/helpers/test-app.ts';
import { sql } from 'drizzle-orm';
import { isDatabaseUnavailable } from '../errors.ts';
import { openDatabase, sqlRows } from './database.ts';

describe.skipIf(process.env.DATABASE_URL)('embedded database (PGlite)', () => {
  // Start from the migrated template: creating a database from scratch takes seconds.
  const template = () => new Blob([readFileSync(inject('templateFile'))]);

  it('refuses a second process on the same data folder with a clear error, and frees it on close', async () => {
    const dataDir = join(tempDir('lock-'), 'nested', 'data');
    const first = await openDatabase({ dataDir, loadDataDir: template() });
    try {
      const child = spawn(
        process.execPath,
        ['-e', `import('${join(ROOT, 'src/platform/db/database.ts')}').then(m => m.openDatabase({ dataDir: ${JSON.stringify(dataDir)} })).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(3);
      expect(stderr).toContain(`is in use by another xlnc command (process ${process.pid})`);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    await again.ping();
    await again.close();
  });

  it('takes over a lock left by a dead process', async () => {
    const dataDir = tempDir('lock-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, 'xlnc.lock'), '999999');
    const database = await openDatabase({ dataDir, loadDataDir: template() });
    await database.ping();
    await database.close();
  });
});

describe.skipIf(!process.env.DATABASE_URL)('PostgreSQL pool (finding 1: a server ending a session must not kill the process)', () => {
  it('a checked-out connection whose session the server ends errors that transaction only; the process lives and the pool reconnects', async () => {
    const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: tempDir('pool-'), poolSize: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    // Where an 'error' event nobody listens to would land (vitest would report it as well).
    process.prependListener('uncaughtException', onUncaught);
    try {
      const transaction = database.db.transaction(async (tx) => {
        const [row] = await sqlRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
        // Another connection ends this session (what a restart's 57P01 does) while the transaction holds it idle.
        await database.executor.executeSql('select pg_terminate_backend($1)', [row!.pid]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.execute(sql`select 1`);
      });
      const failure = await transaction.then(() => undefined, (error: unknown) => error);
      expect(failure).toBeDefined();
      expect(isDatabaseUnavailable(failure)).toBe(true);
      expect(uncaught).toEqual([]);
      await database.ping();
      await database.batch([{ text: 'select 1', params: [] }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await database.close();
    }
  });
});
