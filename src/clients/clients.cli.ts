import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { generateWebhookSecret } from '../platform/standard-webhooks.ts';
import { encryptSecret } from '../platform/secrets.ts';
import type { ClientFileResult } from './client-loader.ts';
import { loadClientsDir } from './client-loader.ts';
import { clientConfigSchema } from './client.schema.ts';

/** What a CLI command may touch; `src/cli.ts` fills it from the process, tests from fakes. */
export type CliIo = {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  encryptionKeys: Buffer[];
  /** Defaults to reading process.stdin to the end. */
  readStdin?: () => Promise<string>;
};

const defaultClientsDir = 'config/clients';
const defaultSchemaPath = 'config/client.schema.json';

/** `xlnc clients validate [dir]`: every issue as `file: $.path: message`; exit 1 if any client is invalid. */
export async function clientsValidate(args: string[], io: CliIo): Promise<number> {
  const dir = args.find((arg) => !arg.startsWith('-')) ?? defaultClientsDir;
  const results = await loadForCli(dir, io);
  if (results === null) return 1;

  for (const result of results) {
    for (const issue of result.issues) io.stdout(`${issue.file}: ${issue.path}: ${issue.message}\n`);
    for (const warning of result.warnings) io.stdout(`${result.file}: warning: ${warning}\n`);
    if (result.legacyHint !== null) io.stdout(`${result.file}: hint: ${result.legacyHint}\n`);
  }
  const invalid = results.filter((result) => result.status === 'invalid');
  const issueCount = invalid.reduce((sum, result) => sum + result.issues.length, 0);
  io.stdout(
    `${results.length} client file(s) in ${dir}: ${results.length - invalid.length} valid, ${invalid.length} invalid` +
      (issueCount > 0 ? ` (${issueCount} issue(s))` : '') +
      '\n',
  );
  return invalid.length > 0 ? 1 : 0;
}

/** `xlnc clients list [dir]`: one row per client file. */
export async function clientsList(args: string[], io: CliIo): Promise<number> {
  const dir = args.find((arg) => !arg.startsWith('-')) ?? defaultClientsDir;
  const results = await loadForCli(dir, io);
  if (results === null) return 1;

  const rows = [
    ['ID', 'STATUS', 'SOURCE', 'ENVIRONMENT', 'NAME', 'ISSUES'],
    ...results.map((result) => [
      result.id,
      result.status,
      'file',
      result.config?.environment ?? '-',
      result.config?.name ?? '-',
      String(result.issues.length),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  for (const row of rows) {
    io.stdout(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}\n`);
  }
  return 0;
}

/** `xlnc clients schema [out]`: writes the JSON Schema editors use to complete client files. */
export async function clientsSchema(args: string[], io: CliIo): Promise<number> {
  const out = args.find((arg) => !arg.startsWith('-')) ?? defaultSchemaPath;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(buildClientJsonSchema(), null, 2)}\n`);
  io.stdout(`${out}\n`);
  return 0;
}

export function buildClientJsonSchema(): Record<string, unknown> {
  // io "input": defaults make fields optional, which is what a person writing the file needs.
  const schema = z.toJSONSchema(clientConfigSchema, { io: 'input' });
  return { ...schema, title: 'XLNC Perception client configuration' };
}

/** `xlnc secrets encrypt [--value V]`: seals a secret (read from stdin by default) as `enc:v1:…`. */
export async function secretsEncrypt(args: string[], io: CliIo): Promise<number> {
  const key = io.encryptionKeys[0];
  if (key === undefined) {
    io.stderr('ENCRYPTION_KEY is not set; it is needed to seal secrets (generate one with `openssl rand -hex 32`)\n');
    return 1;
  }
  const valueIndex = args.indexOf('--value');
  const inline = args.find((arg) => arg.startsWith('--value='))?.slice('--value='.length);
  let plain: string | undefined = valueIndex >= 0 ? args[valueIndex + 1] : inline;
  if (plain === undefined) {
    if (io.readStdin === undefined && process.stdin.isTTY) io.stderr('Enter the secret, then press Ctrl-D:\n');
    // Only the line ending a pasted or piped value adds is dropped; other whitespace may be part of it.
    plain = (await (io.readStdin ?? readProcessStdin)()).replace(/\r?\n$/, '');
  }
  if (plain === '') {
    io.stderr('nothing to encrypt: the secret is empty\n');
    return 1;
  }
  io.stdout(`${encryptSecret(plain, key)}\n`);
  return 0;
}

/**
 * `xlnc secrets webhook [--seal]`: prints a new signing secret for a custom `http` function, in
 * the Standard Webhooks form; `--seal` prints it sealed as `enc:v1:…` too (live clients need that).
 */
export async function secretsWebhook(args: string[], io: CliIo): Promise<number> {
  const secret = generateWebhookSecret();
  if (!args.includes('--seal')) {
    io.stdout(`${secret}\n`);
    return 0;
  }
  const key = io.encryptionKeys[0];
  if (key === undefined) {
    io.stderr('ENCRYPTION_KEY is not set; it is needed to seal secrets (generate one with `openssl rand -hex 32`)\n');
    return 1;
  }
  // The plain secret goes to the endpoint's owner, the sealed one into the client file.
  io.stdout(`${secret}\n${encryptSecret(secret, key)}\n`);
  return 0;
}

async function loadForCli(dir: string, io: CliIo): Promise<ClientFileResult[] | null> {
  try {
    // Warnings come back in the results and are printed; the logger would only duplicate them.
    return await loadClientsDir(dir, { env: io.env, encryptionKeys: io.encryptionKeys, logger: pino({ level: 'silent' }) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    io.stderr(`cannot read clients directory ${dir} (${code})\n`);
    return null;
  }
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
