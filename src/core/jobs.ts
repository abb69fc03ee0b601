/**
 * The job catalogue: every job the platform runs, each with its zod payload and retry policy.
 * Registered at startup by every process; workers run them.
 */
import { messageSendJob } from '../messages/messages.service.ts';
import type { JobDefinition } from '../platform/queue.ts';
import { ALL_HANDLERS } from './router.ts';

export const JOB_CATALOGUE: readonly JobDefinition<{ client_id: string }>[] = [...ALL_HANDLERS.map((handler) => handler.job), messageSendJob];
