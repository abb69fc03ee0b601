/**
 * What the agent's functions (and the call_inbound answer) may use: the client's tenant store and
 * provider adapters, the job queue and outbox for messages and domain events, a logger.
 */
import type { JobContext } from '../core/jobs.ts';

export type FunctionContext = Pick<JobContext, 'tenancy' | 'queue' | 'events' | 'adapters' | 'logger'>;
