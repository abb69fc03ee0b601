/**
 * Retell's management API through the official `retell-sdk` (retell.md §5), for one client's
 * workspace: the agent, its Retell LLM and the phone numbers onboarding reads and updates. The base
 * URL is the client's `retell.api_base_url` (a local fake in tests) or api.retellai.com. Every call
 * goes through `callProvider` (breaker, metrics, hard deadline); failures become a ProviderError
 * whose `code` says what a person can do: `unauthorized` (wrong key), `not_found`, `rejected`,
 * `unavailable`.
 */
import Retell from 'retell-sdk';
import { callProvider } from '../integrations/provider-call.ts';
import { ProviderError, type ProviderContext } from '../platform/provider-http.ts';

export const retellDefaultBaseUrl = 'https://api.retellai.com';

export interface RetellAgentState {
  agent_id: string;
  webhook_url: string | null;
  /** The Retell LLM the agent talks through; undefined for custom-LLM or conversation-flow agents. */
  llm_id: string | undefined;
  /** The agent's latest version (edits land there; the agent and its LLM share the number). */
  version: number;
  /** Whether that latest version is published; false: a draft that calls bound to the published version do not get. */
  is_published: boolean;
}

export interface RetellLlmState {
  llm_id: string;
  general_tools: Array<Record<string, unknown>>;
}

export interface RetellNumberState {
  phone_number: string;
  inbound_webhook_url: string | null;
  inbound_agent_ids: string[];
}

export interface RetellManagement {
  getAgent(agentId: string): Promise<RetellAgentState>;
  /** Publishes the agent's latest version if it is a draft; returns the version published, or undefined when there was none to publish. */
  publishAgent(agentId: string): Promise<number | undefined>;
  updateAgentWebhook(agentId: string, webhookUrl: string | null): Promise<void>;
  getLlm(llmId: string): Promise<RetellLlmState>;
  updateLlmTools(llmId: string, tools: Array<Record<string, unknown>>): Promise<void>;
  getNumber(phoneNumber: string): Promise<RetellNumberState>;
  updateNumber(phoneNumber: string, patch: { inbound_webhook_url?: string | null; inbound_agent_ids?: string[] }): Promise<void>;
}

export type RetellErrorCode = 'unauthorized' | 'not_found' | 'rejected' | 'unavailable';

export function retellErrorCode(error: unknown): RetellErrorCode | undefined {
  if (!(error instanceof ProviderError) || error.provider !== 'retell') return undefined;
  return error.code as RetellErrorCode;
}

function classify(operation: string) {
  return (error: unknown): ProviderError => {
    const status: number | undefined = error instanceof Retell.APIError ? (error.status as number | undefined) : undefined;
    const code: RetellErrorCode = status === 401 || status === 403 ? 'unauthorized' : status === 404 ? 'not_found' : status !== undefined && status >= 400 && status < 500 && status !== 429 ? 'rejected' : 'unavailable';
    return new ProviderError({
      provider: 'retell',
      operation,
      // The SDK's message carries the status and Retell's own text, never the key.
      message: `Retell ${operation} failed${status !== undefined ? ` (HTTP ${status})` : ''}: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`,
      retryable: code === 'unavailable',
      ...(status !== undefined ? { status } : {}),
      code,
    });
  };
}

export function createRetellManagement(options: { clientId: string; apiKey: string; baseUrl: string | undefined; ctx: ProviderContext; timeoutMs?: number }): RetellManagement {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sdk = new Retell({ apiKey: options.apiKey, baseURL: (options.baseUrl ?? retellDefaultBaseUrl).replace(/\/+$/, ''), timeout: timeoutMs, maxRetries: 1, fetch: options.ctx.fetch });
  const call = <T>(operation: string, idempotent: boolean, run: () => Promise<T>) =>
    callProvider(options.ctx, { clientId: options.clientId, provider: 'retell', operation, timeoutMs: timeoutMs * 2, idempotent }, run, classify(operation));

  return {
    async getAgent(agentId) {
      const agent = await call('get_agent', true, () => sdk.agent.retrieve(agentId));
      const engine = agent.response_engine;
      return { agent_id: agent.agent_id, webhook_url: agent.webhook_url ?? null, llm_id: engine.type === 'retell-llm' ? engine.llm_id : undefined, version: agent.version, is_published: agent.is_published === true };
    },
    async publishAgent(agentId) {
      // Read again: the updates before may have made a new draft version (edits never touch a published one).
      const latest = await call('get_agent', true, () => sdk.agent.retrieve(agentId));
      if (latest.is_published === true) return undefined;
      // POST /publish-agent-version/{id} {version}: publishing the same draft twice leaves it published.
      await call('publish_agent', true, () => sdk.agent.publish(agentId, { version: latest.version }));
      return latest.version;
    },
    async updateAgentWebhook(agentId, webhookUrl) {
      // Setting the same URL twice is harmless: the update is idempotent.
      await call('update_agent', true, () => sdk.agent.update(agentId, { webhook_url: webhookUrl }));
    },
    async getLlm(llmId) {
      const llm = await call('get_llm', true, () => sdk.llm.retrieve(llmId));
      return { llm_id: llm.llm_id, general_tools: structuredClone((llm.general_tools ?? []) as unknown as Array<Record<string, unknown>>) };
    },
    async updateLlmTools(llmId, tools) {
      // update-retell-llm replaces general_tools whole (retell.md §9): the full list is sent.
      await call('update_llm', true, () => sdk.llm.update(llmId, { general_tools: tools as unknown as NonNullable<Parameters<typeof sdk.llm.update>[1]>['general_tools'] }));
    },
    async getNumber(phoneNumber) {
      const number = await call('get_phone_number', true, () => sdk.phoneNumber.retrieve(phoneNumber));
      return {
        phone_number: number.phone_number,
        inbound_webhook_url: number.inbound_webhook_url ?? null,
        inbound_agent_ids: (number.inbound_agents ?? []).map((a) => a.agent_id),
      };
    },
    async updateNumber(phoneNumber, patch) {
      await call('update_phone_number', true, () =>
        sdk.phoneNumber.update(phoneNumber, {
          ...(patch.inbound_webhook_url !== undefined ? { inbound_webhook_url: patch.inbound_webhook_url } : {}),
          ...(patch.inbound_agent_ids !== undefined ? { inbound_agents: patch.inbound_agent_ids.map((agent_id) => ({ agent_id, weight: 1 })) } : {}),
        }),
      );
    },
  };
}
