import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/test-app.ts';
import { ConfigError, loadPlatformConfig } from './config.ts';

describe('platform config', () => {
  it('applies defaults and freezes the result', () => {
    const dataDir = tempDir('cfg-');
    const config = loadPlatformConfig({ DATA_DIR: dataDir, NODE_ENV: 'development' });
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.clientsDir.endsWith('config/clients')).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow();
  });

  it('in production, names every missing secret and refuses to start', () => {
    try {
      loadPlatformConfig({ NODE_ENV: 'production', DATA_DIR: tempDir('cfg-') });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of ['JWT_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY']) expect(message).toContain(name);
    }
  });

  it('in development, generates secrets once, keeps them in DATA_DIR with mode 0600', () => {
    const dataDir = tempDir('cfg-');
    const first = loadPlatformConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    const file = join(dataDir, 'dev-secrets.json');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.generatedSecrets).toEqual(['JWT_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY']);
    const second = loadPlatformConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    // Read, not generated: the second start must not say it generated anything.
    expect(second.generatedSecrets).toEqual([]);
    expect(second.developmentSecrets).toEqual(['JWT_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY']);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(second.encryptionKeys[0]?.equals(first.encryptionKeys[0]!)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('JWT_REFRESH_SECRET');
  });

  it('tracing is off by default; an OTLP endpoint, a service name and a sampler turn it on, validated', () => {
    const dataDir = tempDir('cfg-');
    expect(loadPlatformConfig({ DATA_DIR: dataDir }).tracing).toEqual({ otlpEndpoint: undefined, serviceName: 'xlnc-perception', sampler: 'parentbased_always_on', samplerRatio: 1 });
    const on = loadPlatformConfig({ DATA_DIR: dataDir, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'xlnc-worker', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    expect(on.tracing).toEqual({ otlpEndpoint: 'http://collector:4318', serviceName: 'xlnc-worker', sampler: 'parentbased_traceidratio', samplerRatio: 0.25 });
    try {
      loadPlatformConfig({ DATA_DIR: dataDir, OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_SAMPLER_ARG: '2' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT/);
      expect(problems).toMatch(/OTEL_TRACES_SAMPLER:/);
      expect(problems).toMatch(/OTEL_TRACES_SAMPLER_ARG/);
    }
  });

  it('reports every invalid variable at once', () => {
    try {
      loadPlatformConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', DATA_DIR: tempDir('cfg-') });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('PORT');
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('REDIS_URL');
    }
  });

  it('rejects an encryption key that is not 32 bytes', () => {
    expect(() =>
      loadPlatformConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), JWT_REFRESH_SECRET: 'y'.repeat(40), ENCRYPTION_KEY: 'short' }),
    ).toThrow(/ENCRYPTION_KEY/);
  });
});
