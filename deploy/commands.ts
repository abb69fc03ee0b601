/**
 * The three commands a deployment runs, all from one image. Every deployment file uses exactly
 * these (`npm run lint:deploy` checks the Dockerfile, compose.yaml, railway*.json, the Kubernetes
 * manifests and package.json), and test/e2e/production.test.ts runs them from a production install.
 */
export const DEPLOY_COMMANDS = {
  /** The HTTP API (webhooks, agent functions, dashboard API); `npm start`. */
  api: ['node', 'src/main.ts'],
  /** Job workers only, no HTTP; `npm run worker`. */
  worker: ['node', 'src/worker.ts'],
  /** The release step: database migrations and the job queue's schema, then exit. */
  migrate: ['node', 'bin/xlnc.js', 'migrate'],
} as const;

export type DeployCommandName = keyof typeof DEPLOY_COMMANDS;
