/**
 * `xlnc`: the operator's command line. Each command is a function returning an exit code.
 */
import { clientsList, clientsSchema, clientsValidate, secretsEncrypt } from './clients/clients.cli.ts';
import { ConfigError, loadPlatformConfig } from './platform/config.ts';
import { openDatabase } from './platform/db/database.ts';

type Io = Parameters<typeof clientsValidate>[1];
type Command = (args: string[], io: Io) => Promise<number>;

async function migrate(_args: string[], io: Io): Promise<number> {
  const config = loadPlatformConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    io.stdout(`Migrations applied (${database.kind}).\n`);
    return 0;
  } finally {
    await database.close();
  }
}

const COMMANDS: Record<string, { run: Command; help: string }> = {
  'clients validate': { run: clientsValidate, help: 'clients validate [dir]   check every client file; exit 1 on any error' },
  'clients list': { run: clientsList, help: 'clients list [dir]       list configured clients and their status' },
  'clients schema': { run: clientsSchema, help: 'clients schema           write config/client.schema.json' },
  'secrets encrypt': { run: secretsEncrypt, help: 'secrets encrypt [--value V]  seal a secret (stdin) as enc:v1:… for a client file' },
  migrate: { run: migrate, help: 'migrate                  apply database migrations' },
};

function usage(): string {
  return `Usage: xlnc <command>\n\n${Object.values(COMMANDS)
    .map((c) => `  ${c.help}`)
    .join('\n')}\n`;
}

export async function runCli(argv: string[]): Promise<number> {
  const io: Io = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    encryptionKeys: [],
  };
  const two = argv.slice(0, 2).join(' ');
  const match = COMMANDS[two] ? { name: two, rest: argv.slice(2) } : COMMANDS[argv[0] ?? ''] ? { name: argv[0] ?? '', rest: argv.slice(1) } : undefined;
  if (!match || argv.includes('--help')) {
    (match ? io.stdout : io.stderr)(usage());
    return match ? 0 : 2;
  }
  try {
    const config = loadPlatformConfig();
    io.env = config.env;
    io.encryptionKeys = [...config.encryptionKeys];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.message}\n`);
    return 2;
  }
  return COMMANDS[match.name]!.run(match.rest, io);
}

runCli(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
