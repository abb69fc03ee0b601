/**
 * Writes a client file atomically: a temporary file in the same folder, flushed, then renamed over
 * `{id}.json`, so the registry's watcher never reads half a file. The temporary name does not end
 * in `.json`, so the watcher ignores it.
 */
import { existsSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientWriter } from './onboarding.service.ts';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = join(path, '..');
  const temp = join(dir, `.${path.split('/').at(-1) ?? 'client'}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export function createClientFileWriter(clientsDir: string): ClientWriter {
  const fileOf = (id: string) => join(clientsDir, `${id}.json`);
  return {
    sealsSecrets: false,
    async existing(id) {
      return existsSync(fileOf(id)) ? 'file' : undefined;
    },
    async write(id, config) {
      const file = fileOf(id);
      await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
      return file;
    },
  };
}

/** `xlnc clients disable|enable`: sets `status` in the client's file, keeping everything else as written. */
export async function setClientFileStatus(clientsDir: string, id: string, status: 'active' | 'disabled'): Promise<'changed' | 'unchanged'> {
  const file = fileOf(clientsDir, id);
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  if ((config.status ?? 'active') === status) return 'unchanged';
  config.status = status;
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
  return 'changed';
}

function fileOf(clientsDir: string, id: string): string {
  return join(clientsDir, `${id}.json`);
}
