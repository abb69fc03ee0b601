#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript that Node runs as it is (type stripping, on by default from
// Node 22.18 and 23.6), like the server. No compiler or loader is needed, in development or in production.
import process from 'node:process';

if (!process.features.typescript) {
  process.stderr.write(
    `xlnc needs Node.js 22.18 or newer (this is ${process.version}): it runs its TypeScript through Node's own type stripping.\n`,
  );
  process.exit(1);
}
await import('../src/cli.ts');
