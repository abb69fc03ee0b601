/** Agent function invocations (function_calls): one row per call of a tool, without secrets. */
import type { Tx } from '../platform/db/database.ts';
import { functionCalls } from '../platform/db/schema.ts';

export type NewFunctionCall = Omit<typeof functionCalls.$inferInsert, 'clientId' | 'id'>;

export async function insertFunctionCall(tx: Tx, clientId: string, row: NewFunctionCall): Promise<void> {
  await tx.insert(functionCalls).values({ ...row, clientId });
}
