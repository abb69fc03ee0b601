/**
 * The difference between what a client needs in Retell and what Retell has: each agent's webhook
 * URL is this client's, its Retell LLM carries the client's functions as custom tools (other tools,
 * e.g. end_call, are kept), each phone number's inbound webhook URL is this client's and it is
 * answered by one of the client's agents. Edits land on an agent's latest (draft) version and calls
 * bound to its published version do not get them until it is published (retell.md §5
 * "Versioning", [S16]; retell-sdk `agent.update` "latest draft version", `agent.publish`): so every
 * agent the plan changes, and every agent whose latest version is an unpublished draft, is
 * published last, after every other change succeeded. `applyPlan` makes the changes, and on a
 * failure puts back what it had changed, in reverse order, so Retell is as it was (a published
 * version cannot be unpublished: publishing comes last so that only another publish can fail after it).
 */
import { isDeepStrictEqual } from 'node:util';
import type { RetellCustomTool } from '../functions/tool-definitions.ts';
import type { RetellSnapshot } from './onboarding.checks.ts';

export type PlanAction =
  | { kind: 'agent_webhook'; agent_id: string; from: string | null; to: string }
  | { kind: 'llm_tools'; llm_id: string; agent_ids: string[]; add: string[]; update: string[]; remove: string[]; from: Array<Record<string, unknown>>; to: Array<Record<string, unknown>> }
  | { kind: 'number_webhook'; phone_number: string; from: string | null; to: string }
  | { kind: 'number_agent'; phone_number: string; from: string[]; to: string[] }
  /** `draft`: the latest version (known now) is an unpublished draft; undefined: the version the changes above make. */
  | { kind: 'agent_publish'; agent_id: string; draft?: number };

export interface Desired {
  webhookUrl: string;
  agentIds: readonly string[];
  phoneNumbers: readonly string[];
  tools: RetellCustomTool[];
  /** URLs of functions this platform served before (any client id), so a renamed or removed function's tool is taken out. */
  ownsToolUrl: (url: string) => boolean;
}

export function describeAction(action: PlanAction): string {
  switch (action.kind) {
    case 'agent_webhook':
      return `agent ${action.agent_id}: webhook URL ${action.from ?? '(none)'} -> ${action.to}`;
    case 'llm_tools':
      return `Retell LLM ${action.llm_id} (agent ${action.agent_ids.join(', ')}): tools${action.add.length ? ` add ${action.add.join(', ')}` : ''}${action.update.length ? ` update ${action.update.join(', ')}` : ''}${action.remove.length ? ` remove ${action.remove.join(', ')}` : ''}`;
    case 'number_webhook':
      return `number ${action.phone_number}: inbound webhook URL ${action.from ?? '(none)'} -> ${action.to}`;
    case 'number_agent':
      return `number ${action.phone_number}: inbound agent ${action.from.join(', ') || '(none)'} -> ${action.to.join(', ')}`;
    case 'agent_publish':
      return action.draft === undefined
        ? `agent ${action.agent_id}: publish the new version (live calls get the changes above)`
        : `agent ${action.agent_id}: draft version ${action.draft} is not published (live calls do not get it) -> publish`;
  }
}

/** Reads each agent's LLM (the agents and numbers are in the snapshot) and lists what must change. */
export async function planRetell(snapshot: RetellSnapshot, desired: Desired): Promise<PlanAction[]> {
  const actions: PlanAction[] = [];
  for (const agentId of desired.agentIds) {
    const agent = snapshot.agents.get(agentId);
    if (agent && agent.webhook_url !== desired.webhookUrl) actions.push({ kind: 'agent_webhook', agent_id: agentId, from: agent.webhook_url, to: desired.webhookUrl });
  }
  const llms = new Map<string, string[]>();
  for (const agentId of desired.agentIds) {
    const llmId = snapshot.agents.get(agentId)?.llm_id;
    if (llmId !== undefined) llms.set(llmId, [...(llms.get(llmId) ?? []), agentId]);
  }
  for (const [llmId, agentIds] of llms) {
    const llm = await snapshot.management.getLlm(llmId);
    const wanted = new Map(desired.tools.map((t) => [t.name, t as unknown as Record<string, unknown>]));
    const add: string[] = [];
    const update: string[] = [];
    const remove: string[] = [];
    const next: Array<Record<string, unknown>> = [];
    for (const tool of llm.general_tools) {
      const name = typeof tool.name === 'string' ? tool.name : '';
      const want = wanted.get(name);
      if (want) {
        // Compare only the fields we set: Retell may echo extra defaults.
        const same = Object.keys(want).every((key) => isDeepStrictEqual(tool[key], want[key]));
        if (!same) update.push(name);
        next.push(same ? tool : want);
        wanted.delete(name);
      } else if (tool.type === 'custom' && typeof tool.url === 'string' && desired.ownsToolUrl(tool.url)) {
        remove.push(name);
      } else {
        next.push(tool);
      }
    }
    for (const [name, tool] of wanted) {
      add.push(name);
      next.push(tool);
    }
    if (add.length + update.length + remove.length > 0) actions.push({ kind: 'llm_tools', llm_id: llmId, agent_ids: agentIds, add, update, remove, from: llm.general_tools, to: next });
  }
  const changedAgents = new Set(actions.flatMap((a) => (a.kind === 'agent_webhook' ? [a.agent_id] : a.kind === 'llm_tools' ? a.agent_ids : [])));
  const publishes: PlanAction[] = [];
  for (const agentId of desired.agentIds) {
    const agent = snapshot.agents.get(agentId);
    if (!agent) continue;
    if (changedAgents.has(agentId)) publishes.push({ kind: 'agent_publish', agent_id: agentId });
    else if (!agent.is_published) publishes.push({ kind: 'agent_publish', agent_id: agentId, draft: agent.version });
  }
  for (const phone of desired.phoneNumbers) {
    const number = snapshot.numbers.get(phone);
    if (!number) continue;
    if (number.inbound_webhook_url !== desired.webhookUrl) actions.push({ kind: 'number_webhook', phone_number: phone, from: number.inbound_webhook_url, to: desired.webhookUrl });
    const first = desired.agentIds[0];
    if (first !== undefined && !number.inbound_agent_ids.some((id) => desired.agentIds.includes(id))) {
      actions.push({ kind: 'number_agent', phone_number: phone, from: number.inbound_agent_ids, to: [first] });
    }
  }
  return [...actions, ...publishes];
}

export interface ApplyResult {
  applied: PlanAction[];
  failed?: { action: PlanAction; error: string };
  /** Actions put back after the failure, and any that could not be (the operator must fix those). */
  rolledBack: PlanAction[];
  rollbackFailed: Array<{ action: PlanAction; error: string }>;
}

async function apply(snapshot: RetellSnapshot, action: PlanAction, direction: 'forward' | 'back'): Promise<void> {
  const m = snapshot.management;
  switch (action.kind) {
    case 'agent_webhook':
      return m.updateAgentWebhook(action.agent_id, direction === 'forward' ? action.to : action.from);
    case 'llm_tools':
      return m.updateLlmTools(action.llm_id, direction === 'forward' ? action.to : action.from);
    case 'number_webhook':
      return m.updateNumber(action.phone_number, { inbound_webhook_url: direction === 'forward' ? action.to : action.from });
    case 'number_agent':
      return m.updateNumber(action.phone_number, { inbound_agent_ids: direction === 'forward' ? action.to : action.from });
    case 'agent_publish':
      if (direction === 'back') throw new Error('a published Retell version cannot be unpublished: publish the previous version again in the Retell dashboard (Agent → Versions)');
      await m.publishAgent(action.agent_id);
      return;
  }
}

export async function applyPlan(snapshot: RetellSnapshot, actions: readonly PlanAction[], onAction?: (action: PlanAction, status: 'applied' | 'failed' | 'rolled_back' | 'rollback_failed', error?: string) => void): Promise<ApplyResult> {
  const applied: PlanAction[] = [];
  for (const action of actions) {
    try {
      await apply(snapshot, action, 'forward');
      applied.push(action);
      onAction?.(action, 'applied');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      onAction?.(action, 'failed', message);
      const rolledBack: PlanAction[] = [];
      const rollbackFailed: Array<{ action: PlanAction; error: string }> = [];
      for (const done of [...applied].reverse()) {
        try {
          await apply(snapshot, done, 'back');
          rolledBack.push(done);
          onAction?.(done, 'rolled_back');
        } catch (undoError) {
          const undoMessage = undoError instanceof Error ? undoError.message : String(undoError);
          rollbackFailed.push({ action: done, error: undoMessage });
          onAction?.(done, 'rollback_failed', undoMessage);
        }
      }
      return { applied: [], failed: { action, error: message }, rolledBack, rollbackFailed };
    }
  }
  return { applied, rolledBack: [], rollbackFailed: [] };
}
