/**
 * Onboarding's database store: the client is saved through the admin clients service, exactly as
 * `POST /api/admin/clients` saves it (validated, secrets sealed with ENCRYPTION_KEY, versioned,
 * audited, then announced to every instance), by the console's "Add client" and by
 * `xlnc onboard --store db` alike.
 */
import type { Actor, AdminClientsService } from '../admin/admin-clients.service.ts';
import { AppError } from '../platform/errors.ts';
import type { ClientWriter } from './onboarding.service.ts';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The JSON merge patch (RFC 7396) that turns `current` into `next`: every key `next` leaves out is
 * sent as null, so an update replaces the client (an answers file is the whole client) instead of
 * keeping parts the answers no longer have.
 */
export function replacementPatch(current: unknown, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const before = isObject(current) ? current : {};
  for (const key of Object.keys(before)) if (!(key in next)) patch[key] = null;
  for (const [key, value] of Object.entries(next)) {
    patch[key] = isObject(value) && isObject(before[key]) ? replacementPatch(before[key], value) : value;
  }
  return patch;
}

export function createDbClientWriter(clients: AdminClientsService, actor: Actor): ClientWriter {
  return {
    sealsSecrets: true,
    async existing(id) {
      try {
        return (await clients.get(id)).source;
      } catch (error) {
        if (error instanceof AppError && error.code === 'not_found') return undefined;
        throw error;
      }
    },
    async write(id, config, mode) {
      if (mode === 'create') {
        await clients.create(actor, config);
        return 'database';
      }
      const current = await clients.get(id);
      // Masked secrets in `current` only name the keys; the answers carry the values to store.
      await clients.update(actor, id, replacementPatch(current.config, config), current.version ?? 0);
      return 'database';
    },
  };
}
