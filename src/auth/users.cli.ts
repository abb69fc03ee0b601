/**
 * `xlnc users create` and `xlnc users reset-password`. The password is prompted on the terminal
 * (not echoed, asked twice) or read from stdin with `--password-stdin` for scripts; it is never
 * taken from the command line, where it would land in shell history and `ps`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { writeAudit } from '../admin/audit.service.ts';
import type { CliIo } from '../clients/clients.cli.ts';
import { loadPlatformConfig } from '../platform/config.ts';
import { openDatabase, type Database } from '../platform/db/database.ts';
import { clientConfigs, clients } from '../platform/db/schema.ts';
import { createTenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import { findUserByEmail } from './auth.repo.ts';
import { clientIdSchema, emailSchema, passwordSchema, ROLES } from './auth.schemas.ts';
import { changeUser, createUser } from './users.service.ts';

/** What the commands need beyond `io`; tests pass an open test database. */
export interface UsersCliContext {
  database?: Database;
  clientsDir?: string;
  /** Reads a password without echo (default: the terminal). */
  promptPassword?: (question: string) => Promise<string>;
}

async function openFromEnvironment(): Promise<{ database: Database; clientsDir: string; owned: boolean }> {
  const config = loadPlatformConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, clientsDir: config.clientsDir, owned: true };
}

async function withDatabase<T>(ctx: UsersCliContext, work: (database: Database, clientsDir: string) => Promise<T>): Promise<T> {
  const opened = ctx.database
    ? { database: ctx.database, clientsDir: ctx.clientsDir ?? 'config/clients', owned: false }
    : await openFromEnvironment();
  try {
    return await work(opened.database, opened.clientsDir);
  } finally {
    if (opened.owned) await opened.database.close();
  }
}

async function readPassword(io: CliIo, ctx: UsersCliContext, fromStdin: boolean): Promise<string | undefined> {
  if (fromStdin) {
    const text = await (io.readStdin ?? readProcessStdin)();
    return text.replace(/\r?\n$/, '');
  }
  const prompt = ctx.promptPassword ?? (process.stdin.isTTY ? promptHidden : undefined);
  if (prompt === undefined) {
    io.stderr('No terminal to prompt for the password: pipe it with --password-stdin\n');
    return undefined;
  }
  const first = await prompt('Password: ');
  const second = await prompt('Repeat password: ');
  if (first !== second) {
    io.stderr('The passwords do not match\n');
    return undefined;
  }
  return first;
}

/** The password, read and checked against the password rules; undefined (after saying why) otherwise. */
async function readCheckedPassword(io: CliIo, ctx: UsersCliContext, fromStdin: boolean): Promise<string | undefined> {
  const password = await readPassword(io, ctx, fromStdin);
  if (password === undefined) return undefined;
  const checked = passwordSchema.safeParse(password);
  if (!checked.success) {
    io.stderr(`Password ${checked.error.issues[0]?.message ?? 'is invalid'}\n`);
    return undefined;
  }
  return checked.data;
}

function problem(io: CliIo, error: unknown): number {
  if (error instanceof AppError) {
    io.stderr(`${error.message}\n`);
    return 1;
  }
  throw error;
}

/** `xlnc users create --email … --role … [--client …] [--password-stdin]` */
export async function usersCreate(args: string[], io: CliIo, ctx: UsersCliContext = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { email: { type: 'string' }, role: { type: 'string' }, client: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
  });
  const email = emailSchema.safeParse(values.email);
  const role = ROLES.find((r) => r === values.role);
  const client = values.client === undefined ? undefined : clientIdSchema.safeParse(values.client);
  if (!email.success || role === undefined || (client !== undefined && !client.success)) {
    io.stderr(`Usage: xlnc users create --email you@example.com --role ${ROLES.join('|')} [--client <client-id>] [--password-stdin]\n`);
    return 2;
  }
  if ((role === 'platform_admin') !== (client === undefined)) {
    io.stderr(role === 'platform_admin' ? 'A platform_admin belongs to no client: drop --client\n' : `--client is required for role ${role}\n`);
    return 2;
  }
  // The database first: a folder another process holds is reported before anyone types a password.
  return withDatabase(ctx, async (database, clientsDir) => {
    const checked = await readCheckedPassword(io, ctx, values['password-stdin'] === true);
    if (checked === undefined) return 1;
    const tenancy = createTenancy(database);
    try {
      const user = await tenancy.withPlatform(async (tx) => {
        const exists = async (id: string) =>
          existsSync(join(clientsDir, `${id}.json`)) ||
          (await tx.select({ id: clients.id }).from(clients).where(eq(clients.id, id))).length > 0 ||
          (await tx.select({ id: clientConfigs.id }).from(clientConfigs).where(eq(clientConfigs.id, id))).length > 0;
        const created = await createUser(tx, { email: email.data, password: checked, role, clientId: client?.data ?? null }, exists);
        await writeAudit(tx, {
          actorUserId: null,
          action: 'user.create',
          clientId: created.client_id,
          targetId: created.id,
          diff: { changes: [{ path: '$.email', to: created.email }, { path: '$.role', to: created.role }, { path: '$.client_id', to: created.client_id }] },
        });
        return created;
      });
      io.stdout(`Created ${user.role} ${user.email}${user.client_id ? ` for client ${user.client_id}` : ''} (id ${user.id})\n`);
      return 0;
    } catch (error) {
      return problem(io, error);
    }
  });
}

/** `xlnc users reset-password --email … [--password-stdin]`: also ends every session of that user. */
export async function usersResetPassword(args: string[], io: CliIo, ctx: UsersCliContext = {}): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, 'password-stdin': { type: 'boolean' } } });
  const email = emailSchema.safeParse(values.email);
  if (!email.success) {
    io.stderr('Usage: xlnc users reset-password --email you@example.com [--password-stdin]\n');
    return 2;
  }
  return withDatabase(ctx, async (database) => {
    const checked = await readCheckedPassword(io, ctx, values['password-stdin'] === true);
    if (checked === undefined) return 1;
    const tenancy = createTenancy(database);
    try {
      await tenancy.withPlatform(async (tx) => {
        const user = await findUserByEmail(tx, email.data);
        if (user === undefined) throw new AppError('not_found', `No user with email ${email.data}`);
        await changeUser(tx, user.id, { password: checked }, () => true);
        await writeAudit(tx, {
          actorUserId: null,
          action: 'user.update',
          clientId: user.clientId,
          targetId: user.id,
          diff: { changes: [{ path: '$.password', from: '••••', to: '••••' }] },
        });
      });
      io.stdout(`Password reset for ${email.data}; their sessions were ended\n`);
      return 0;
    } catch (error) {
      return problem(io, error);
    }
  });
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003' || char === '\u0004') {
          finish();
          reject(new Error('cancelled'));
          return;
        }
        value = char === '\u007f' || char === '\b' ? value.slice(0, -1) : value + char;
      }
    };
    stdin.on('data', onData);
  });
}
