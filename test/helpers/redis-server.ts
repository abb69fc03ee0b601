/**
 * A redis-server of the test's own on a port of its own (never the machine's shared 6379), which
 * the test may stop and start again: outages without touching anyone else's Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { exited, freePort } from './processes.ts';

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: what an outage looks like to clients (connections reset at once). */
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that keeps its connections open and stops answering. */
  pause(): void;
  resume(): void;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function ownRedis(port?: number): Promise<OwnRedis> {
  const chosen = port ?? (await freePort());
  let child: ChildProcess | undefined;
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}/0`,
    async start() {
      child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const deadline = Date.now() + 5_000;
      while (!(await accepts(chosen))) {
        if (Date.now() > deadline) throw new Error(`redis-server on ${chosen} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      child.kill('SIGCONT');
      const gone = exited(child);
      child.kill('SIGKILL');
      await gone;
    },
  };
}
