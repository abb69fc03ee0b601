#!/usr/bin/env node
/**
 * Builds the dashboard (web/ → web/dist) with Vite, writes .br and .gz beside every asset (served
 * pre-compressed), and prints the bundle's initial JavaScript gzipped. Plain JavaScript so that
 * `npm start` can run it on any supported Node without a TypeScript loader.
 *
 *   node web/build.mjs             build (npm run build; the Docker build stage runs it)
 *   node web/build.mjs --if-stale  build only when web/dist is missing or older than its sources
 *                                  (a hash of them); without Vite (npm ci --omit=dev) say so, exit 0
 *   node web/build.mjs --report    no build: print the figures of the existing bundle
 *
 * The last line printed is JSON: { initial_js_gzip_bytes, limit_bytes, ... }. Over the limit → exit 1.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const WEB = dirname(fileURLToPath(import.meta.url));
const ROOT = join(WEB, '..');
const DIST = join(WEB, 'dist');
const STAMP = join(DIST, '.source-hash');
/** Initial JavaScript budget, gzipped (issue 15). */
export const INITIAL_JS_LIMIT_BYTES = 200 * 1024;

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The inputs of the bundle: sources (tests excluded), entry page, build config and the lock file. */
function sourceHash() {
  const inputs = [
    ...filesUnder(join(WEB, 'src')).filter((file) => !/\.test\.tsx?$/.test(file)),
    ...filesUnder(join(WEB, 'public')),
    join(WEB, 'index.html'),
    join(WEB, 'vite.config.ts'),
    join(WEB, 'tsconfig.json'),
    join(ROOT, 'package-lock.json'),
  ]
    .filter((file) => existsSync(file))
    .sort();
  const hash = createHash('sha256');
  for (const file of inputs) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** The scripts a first visit loads before anything else: the entry and its modulepreloads. */
export function initialScripts(distDir) {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const srcs = [...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map(
    (match) => match[1],
  );
  return [...new Set(srcs)].map((src) => join(distDir, src.replace(/^\//, '')));
}

function report(buildMs) {
  const initial = initialScripts(DIST);
  const initialGzip = initial.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
  const allJs = filesUnder(join(DIST, 'assets')).filter((file) => file.endsWith('.js'));
  const allGzip = allJs.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
  const figures = {
    initial_js_gzip_bytes: initialGzip,
    limit_bytes: INITIAL_JS_LIMIT_BYTES,
    initial_files: initial.map((file) => relative(DIST, file)),
    all_js_gzip_bytes: allGzip,
    js_files: allJs.length,
    ...(buildMs !== undefined ? { build_ms: buildMs } : {}),
  };
  const kb = (bytes) => (bytes / 1024).toFixed(1);
  process.stdout.write(
    `dashboard: initial JavaScript ${kb(initialGzip)} KB gzipped (limit ${kb(INITIAL_JS_LIMIT_BYTES)} KB), all ${allJs.length} chunks ${kb(allGzip)} KB` +
      (buildMs !== undefined ? `, built in ${(buildMs / 1000).toFixed(1)} s` : '') +
      '\n',
  );
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return initialGzip <= INITIAL_JS_LIMIT_BYTES;
}

function precompress() {
  for (const file of filesUnder(join(DIST, 'assets'))) {
    if (!/\.(js|css|svg|json|txt|map)$/.test(file)) continue;
    const body = readFileSync(file);
    writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
    writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
}

async function build(onStart) {
  // Always the production bundle: a NODE_ENV of test or development (vitest, `npm run dev`) would
  // otherwise give React's development build, twice the size.
  process.env.NODE_ENV = 'production';
  let vite;
  try {
    vite = await import('vite');
  } catch {
    return 'no-vite';
  }
  onStart();
  const hash = sourceHash();
  const started = Date.now();
  await vite.build({ configFile: join(WEB, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  precompress();
  mkdirSync(DIST, { recursive: true });
  writeFileSync(STAMP, `${hash}\n`);
  return Date.now() - started;
}

function isFresh() {
  if (!existsSync(join(DIST, 'index.html'))) return false;
  // A deployed image may carry the bundle without its sources: then it is what it is.
  if (!existsSync(join(WEB, 'src'))) return true;
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === sourceHash();
}

async function main(argv) {
  if (argv.includes('--report')) {
    if (!existsSync(join(DIST, 'index.html'))) {
      process.stderr.write('dashboard: no bundle in web/dist; run `npm run build`\n');
      return 1;
    }
    return report() ? 0 : 1;
  }
  const ifStale = argv.includes('--if-stale');
  if (ifStale && isFresh()) return 0;
  const result = await build(() => {
    if (ifStale) process.stdout.write('dashboard: web/dist is missing or older than web/; building it (once)\n');
  });
  if (result === 'no-vite') {
    process.stdout.write('dashboard: Vite is not installed (npm ci --omit=dev), so web/ cannot be built here; the API starts without the dashboard\n');
    return ifStale ? 0 : 1;
  }
  return report(result) ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`dashboard: build failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
