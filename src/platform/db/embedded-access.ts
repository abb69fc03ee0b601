/**
 * Sharing the embedded database of a running process with `xlnc` commands.
 *
 * PGlite allows one process per data folder. The process that holds it (the server, or `xlnc
 * worker`) serves that PGlite over the PostgreSQL wire protocol on a loopback port, and records
 * the address and a random password in `DATA_DIR/embedded-db.json` (mode 0600). Any command that
 * needs the database and finds the folder held by such a process connects there with a plain
 * PostgreSQL driver, so every present and future command works while the server runs.
 *
 * Why not @electric-sql/pglite-socket (0.2.17): it asks for no password, it pins its peer
 * `@electric-sql/pglite` to exactly 0.5.14 plus seven extension packages, and its queue takes
 * only PGlite's query lock, so a socket client's statement can run inside a transaction the
 * server has open (measured: an autocommit INSERT from a socket client was lost when the
 * server's transaction rolled back).
 *
 * Here a connection takes PGlite's transaction lock (the one `query`, `exec` and `transaction`
 * take) for a whole exchange: from its first message to a ReadyForQuery that says "idle", so an
 * extended-protocol sequence or an explicit transaction never interleaves with the server's own
 * work or another connection's. One PGlite is one PostgreSQL session: session-level settings are
 * shared (our code sets its settings transaction-locally), and prepared statement names are
 * prefixed per connection so two connections never collide. A connection that holds the lock and
 * goes quiet for `holdTimeoutMs` is rolled back and closed, so a stuck command cannot stall the
 * server for longer than that.
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

/** The file, in DATA_DIR, that says where the holder of the data folder shares it. */
export const EMBEDDED_ACCESS_FILE = 'embedded-db.json';

/** What `embedded-db.json` holds (mode 0600). */
export interface EmbeddedAccessRecord {
  pid: number;
  host: string;
  port: number;
  user: string;
  password: string;
  /** When the holder started sharing (ISO time). */
  since: string;
}

export interface EmbeddedAccess {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ShareOptions {
  pglite: PGlite;
  dataDir: string;
  /** How long a connection may hold the database between two of its messages (default 10 s). */
  holdTimeoutMs?: number;
  maxConnections?: number;
  /** Connection problems worth a log line (never the password). */
  onProblem?: (message: string) => void;
}

const USER = 'xlnc';
const HOST = '127.0.0.1';
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSS_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;

export function accessFilePath(dataDir: string): string {
  return join(dataDir, EMBEDDED_ACCESS_FILE);
}

/** The record in DATA_DIR, or undefined when there is none (or it is unreadable). */
export function readEmbeddedAccess(dataDir: string): EmbeddedAccessRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(accessFilePath(dataDir), 'utf8')) as Partial<EmbeddedAccessRecord>;
    if (typeof record.pid !== 'number' || typeof record.port !== 'number' || typeof record.password !== 'string') return undefined;
    return { pid: record.pid, host: record.host ?? HOST, port: record.port, user: record.user ?? USER, password: record.password, since: record.since ?? '' };
  } catch {
    return undefined;
  }
}

/** A connection string for the record: loopback, its password, no TLS (the socket never leaves the machine). */
export function embeddedAccessUrl(record: EmbeddedAccessRecord): string {
  return `postgres://${encodeURIComponent(record.user)}:${encodeURIComponent(record.password)}@${record.host}:${record.port}/postgres?sslmode=disable`;
}

/** Removes a record left by a process that is gone (a crash leaves it behind). */
export function removeStaleEmbeddedAccess(dataDir: string): void {
  rmSync(accessFilePath(dataDir), { force: true });
}

// --- wire helpers -------------------------------------------------------------------------------

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value, 0);
  return b;
}

const cstring = (text: string) => Buffer.from(`${text}\0`, 'utf8');

function errorResponse(severity: 'ERROR' | 'FATAL', code: string, text: string): Buffer {
  return message('E', Buffer.concat([Buffer.from('S'), cstring(severity), Buffer.from('V'), cstring(severity), Buffer.from('C'), cstring(code), Buffer.from('M'), cstring(text), Buffer.from([0])]));
}

/** The ReadyForQuery status at the end of PGlite's answer: I idle, T in a transaction, E failed one. */
function readyStatus(output: Uint8Array): string | undefined {
  const n = output.length;
  if (n < 6) return undefined;
  if (output[n - 6] !== 0x5a || output[n - 5] !== 0 || output[n - 4] !== 0 || output[n - 3] !== 0 || output[n - 2] !== 5) return undefined;
  return String.fromCharCode(output[n - 1] ?? 0);
}

/** Reads a NUL-terminated string at `offset`; returns it and the offset after the NUL. */
function readCString(buffer: Buffer, offset: number): [string, number] {
  const end = buffer.indexOf(0, offset);
  if (end < 0) throw new Error('malformed message');
  return [buffer.toString('utf8', offset, end), end + 1];
}

/**
 * Prefixes named prepared statements with the connection's tag in Parse, Bind, Describe and
 * Close, so connections sharing PGlite's one session never see each other's statements.
 * The unnamed statement needs nothing: an exchange holds the session from Parse to Sync.
 */
function renameStatements(msg: Buffer, tag: string, created: Set<string>): Buffer {
  const type = String.fromCharCode(msg[0] ?? 0);
  const body = msg.subarray(5);
  const rename = (name: string) => (name === '' ? '' : `${tag}${name}`);
  switch (type) {
    case 'P': {
      const [name, rest] = readCString(body, 0);
      if (name === '') return msg;
      created.add(rename(name));
      return message('P', Buffer.concat([cstring(rename(name)), body.subarray(rest)]));
    }
    case 'B': {
      const [portal, afterPortal] = readCString(body, 0);
      const [statement, rest] = readCString(body, afterPortal);
      if (statement === '') return msg;
      return message('B', Buffer.concat([cstring(portal), cstring(rename(statement)), body.subarray(rest)]));
    }
    case 'D':
    case 'C': {
      if (body[0] !== 0x53 /* S */) return msg;
      const [name] = readCString(body, 1);
      if (name === '') return msg;
      if (type === 'C') created.delete(rename(name));
      return message(type, Buffer.concat([Buffer.from('S'), cstring(rename(name))]));
    }
    default:
      return msg;
  }
}

// --- the session lock ---------------------------------------------------------------------------

/** Holds PGlite's transaction lock until `release` is called. */
async function acquireSession(pglite: PGlite): Promise<() => void> {
  return new Promise((resolveAcquired, rejectAcquired) => {
    pglite
      ._runExclusiveTransaction(
        () =>
          new Promise<void>((release) => {
            resolveAcquired(release);
          }),
      )
      .catch(rejectAcquired);
  });
}

async function run(pglite: PGlite, bytes: Uint8Array): Promise<Uint8Array> {
  return pglite.runExclusive(() => pglite.execProtocolRaw(bytes, { syncToFs: false }));
}

const simpleQuery = (sql: string) => message('Q', cstring(sql));
const SYNC = message('S', Buffer.alloc(0));

// --- one connection -----------------------------------------------------------------------------

function serveConnection(socket: Socket, options: Required<Pick<ShareOptions, 'holdTimeoutMs'>> & ShareOptions, password: string, parameters: Buffer, connectionId: number, onDone: () => void) {
  const { pglite } = options;
  const tag = `xc${connectionId}_`;
  const statements = new Set<string>();
  let phase: 'startup' | 'password' | 'ready' | 'closed' = 'startup';
  let pending: Buffer = Buffer.alloc(0);
  let chain: Promise<void> = Promise.resolve();
  let release: (() => void) | undefined;
  /** Mid-exchange (messages since the last ReadyForQuery): a Sync is owed before cleanup. */
  let midExchange = false;
  let holdTimer: NodeJS.Timeout | undefined;

  const write = (bytes: Uint8Array) => {
    if (!socket.destroyed) socket.write(bytes);
  };
  const fail = (code: string, text: string) => {
    write(errorResponse('FATAL', code, text));
    socket.end();
    phase = 'closed';
  };

  const stopHoldTimer = () => {
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = undefined;
  };

  const execute = async (msg: Buffer) => {
    stopHoldTimer();
    if (!release) release = await acquireSession(pglite);
    if (phase === 'closed') return;
    const output = await run(pglite, renameStatements(msg, tag, statements));
    write(output);
    const status = readyStatus(output);
    if (status === undefined) midExchange = true;
    else midExchange = false;
    if (status === 'I') {
      release();
      release = undefined;
    } else {
      holdTimer = setTimeout(() => {
        options.onProblem?.(`an xlnc command held the embedded database for ${options.holdTimeoutMs} ms without a word; it was rolled back and disconnected`);
        write(errorResponse('FATAL', '25P03', `held the embedded database for ${options.holdTimeoutMs} ms without finishing; rolled back`));
        socket.destroy();
      }, options.holdTimeoutMs);
      holdTimer.unref();
    }
  };

  /** Leaves the shared session as it was: no open exchange or transaction, none of our statements. */
  const cleanup = async () => {
    stopHoldTimer();
    if (!release && statements.size === 0) return;
    if (!release) release = await acquireSession(pglite);
    try {
      if (midExchange) await run(pglite, SYNC);
      if (pglite.isInTransaction()) await run(pglite, simpleQuery('ROLLBACK'));
      for (const name of statements) await run(pglite, simpleQuery(`DEALLOCATE "${name.replaceAll('"', '""')}"`));
    } finally {
      release();
      release = undefined;
    }
  };

  const handle = (msg: Buffer) => {
    if (phase === 'password') {
      if (msg[0] !== 0x70 /* p */) return fail('08P01', 'expected a password message');
      const [given] = readCString(msg.subarray(5), 0);
      const a = createHash('sha256').update(given).digest();
      const b = createHash('sha256').update(password).digest();
      if (!timingSafeEqual(a, b)) return fail('28P01', `password authentication failed for user "${USER}"`);
      phase = 'ready';
      write(Buffer.concat([message('R', int32(0)), parameters, message('K', Buffer.concat([int32(process.pid), randomBytes(4)])), message('Z', Buffer.from('I'))]));
      return;
    }
    if (msg[0] === 0x58 /* X: Terminate */) {
      socket.end();
      return;
    }
    chain = chain.then(() => execute(msg)).catch((error: unknown) => {
      options.onProblem?.(`embedded database connection failed: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    });
  };

  const onStartup = (msg: Buffer) => {
    const code = msg.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSS_REQUEST) {
      write(Buffer.from('N'));
      return;
    }
    if (code === CANCEL_REQUEST) {
      socket.end();
      return;
    }
    if (code !== PROTOCOL_3) return fail('08P01', 'unsupported protocol version');
    phase = 'password';
    write(message('R', int32(3))); // AuthenticationCleartextPassword: loopback only, see the header
  };

  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    try {
      for (;;) {
        if (phase === 'closed') return;
        const startup = phase === 'startup';
        const headerBytes = startup ? 4 : 5;
        if (pending.length < headerBytes) return;
        const length = startup ? pending.readInt32BE(0) : pending.readInt32BE(1) + 1;
        if (length < headerBytes || length > MAX_MESSAGE_BYTES) return fail('08P01', 'invalid message length');
        if (pending.length < length) return;
        const msg = pending.subarray(0, length);
        pending = pending.subarray(length);
        if (startup) onStartup(msg);
        else handle(msg);
      }
    } catch {
      fail('08P01', 'malformed message');
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    phase = 'closed';
    chain = chain
      .then(cleanup)
      .catch((error: unknown) => options.onProblem?.(`embedded database cleanup failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(onDone);
  });
}

/**
 * Serves `pglite` on a loopback port and records where in DATA_DIR. Call it after migrations:
 * commands then find the database complete. `close()` stops it and removes the record.
 */
export async function shareEmbeddedDatabase(options: ShareOptions): Promise<EmbeddedAccess> {
  const settings = { holdTimeoutMs: 10_000, maxConnections: 8, ...options };
  const password = randomBytes(24).toString('base64url');
  const shown = async (name: string) => Object.values((await options.pglite.query<Record<string, string>>(`show ${name}`)).rows[0] ?? {})[0] ?? '';
  const parameterValues: Record<string, string> = {
    server_version: await shown('server_version'),
    server_encoding: 'UTF8',
    client_encoding: 'UTF8',
    DateStyle: await shown('DateStyle'),
    TimeZone: await shown('TimeZone'),
    integer_datetimes: 'on',
    standard_conforming_strings: 'on',
  };
  const parameters = Buffer.concat(Object.entries(parameterValues).map(([name, value]) => message('S', Buffer.concat([cstring(name), cstring(value)]))));

  let nextId = 1;
  const sockets = new Set<Socket>();
  const drained: Promise<void>[] = [];
  const server: Server = createServer((socket) => {
    // Loopback only, twice over: the listener is bound to 127.0.0.1, and anything else is refused.
    if (socket.remoteAddress !== '127.0.0.1' && socket.remoteAddress !== '::ffff:127.0.0.1') {
      socket.destroy();
      return;
    }
    if (sockets.size >= settings.maxConnections) {
      socket.end(errorResponse('FATAL', '53300', 'too many connections to the embedded database'));
      return;
    }
    sockets.add(socket);
    let done!: () => void;
    drained.push(new Promise<void>((resolve) => (done = resolve)));
    serveConnection(socket, settings, password, parameters, nextId++, () => {
      sockets.delete(socket);
      done();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A listener error later (e.g. EMFILE on accept) is reported, never an unhandled 'error' that ends the server.
  server.on('error', (error: Error) => options.onProblem?.(`embedded database listener error: ${error.message}`));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the embedded database listener has no port');

  const record: EmbeddedAccessRecord = { pid: process.pid, host: HOST, port: address.port, user: USER, password, since: new Date().toISOString() };
  const file = accessFilePath(options.dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);

  return {
    host: HOST,
    port: address.port,
    async close() {
      // Only our own record: a newer holder may have replaced it.
      if (readEmbeddedAccess(options.dataDir)?.password === password) rmSync(file, { force: true });
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await Promise.all([closed, ...drained]);
    },
  };
}
