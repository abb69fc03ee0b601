/**
 * A local Retell management API (../shared/reference/retell.md §5, the paths retell-sdk 5.x
 * calls): get/update agent (`webhook_url`, `response_engine`), get/update Retell LLM
 * (`general_tools`, replaced whole), get/update phone number (`inbound_webhook_url`,
 * `inbound_agents`), publish an agent version (`POST /publish-agent-version/{id}` `{version}`).
 * Bearer API key per workspace: an unknown key answers 401, an agent, LLM or number outside the
 * key's workspace 404. Every write is recorded in `writes`, so a test can say "nothing was
 * provisioned"; `failNext` makes a chosen write path answer an error once.
 *
 * Versions (retell.md §5 "Versioning" [S16]): an agent and its LLM share a version number; edits
 * land on the latest version while it is a draft; a published version is frozen, so an edit after
 * publishing makes a new draft (version + 1, `is_published: false`) and leaves the published one
 * as it was. `published` keeps a copy of each published version: what calls bound to the
 * published version get. Assumptions where the reference is silent: a new agent starts as draft
 * version 0; publishing a version that is not the latest draft answers 400.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from './http-fake.ts';

export interface RetellFakeAgent {
  agent_id: string;
  agent_name?: string;
  version: number;
  response_engine: { type: 'retell-llm'; llm_id: string; version?: number } | { type: 'custom-llm'; llm_websocket_url: string };
  webhook_url: string | null;
  voice_id: string;
  is_published: boolean;
  last_modification_timestamp: number;
}

export interface RetellFakeLlm {
  llm_id: string;
  version: number;
  is_published: boolean;
  general_prompt: string;
  general_tools: Array<Record<string, unknown>>;
  last_modification_timestamp: number;
}

export interface RetellFakeNumber {
  phone_number: string;
  phone_number_type: 'retell-twilio';
  inbound_agents: Array<{ agent_id: string; weight: number }> | null;
  inbound_webhook_url: string | null;
  nickname: string | null;
  last_modification_timestamp: number;
}

/** A published version as calls bound to it see it. */
export interface RetellFakePublished {
  version: number;
  webhook_url: string | null;
  general_tools: Array<Record<string, unknown>>;
}

export interface RetellFakeWorkspace {
  apiKey: string;
  agents: Map<string, RetellFakeAgent>;
  llms: Map<string, RetellFakeLlm>;
  numbers: Map<string, RetellFakeNumber>;
  /** Agent id → its published versions, oldest first. */
  published: Map<string, RetellFakePublished[]>;
}

export interface RetellFakeWrite {
  apiKey: string;
  method: string;
  path: string;
  body: unknown;
}

export interface RetellFake extends FakeServer {
  /** Every PATCH/POST that changed (or tried to change) something, in order. */
  writes: RetellFakeWrite[];
  addWorkspace(spec: { apiKey: string; agents: Array<{ agent_id: string; llm_id?: string; webhook_url?: string | null; tools?: Array<Record<string, unknown>>; published?: boolean }>; numbers?: Array<{ phone_number: string; agent_id?: string; inbound_webhook_url?: string | null }> }): RetellFakeWorkspace;
  workspace(apiKey: string): RetellFakeWorkspace;
  /** The next write whose path starts with `pathPrefix` answers `status` (once). */
  failNext(pathPrefix: string, status: number): void;
}

function notFound(response: ServerResponse, what: string) {
  sendJson(response, 404, { status: 'error', message: `${what} not found` });
}

export async function startRetellFake(): Promise<RetellFake> {
  const workspaces = new Map<string, RetellFakeWorkspace>();
  const writes: RetellFakeWrite[] = [];
  const failures: Array<{ prefix: string; status: number }> = [];
  const now = () => Date.now();

  const handle = (request: RecordedRequest, response: ServerResponse) => {
    const key = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const ws = workspaces.get(key);
    if (!ws) return sendJson(response, 401, { status: 'error', message: 'Unauthorized: invalid API key' });
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const isWrite = request.method === 'PATCH' || request.method === 'POST';
    if (isWrite) {
      writes.push({ apiKey: key, method: request.method, path: request.path, body: request.body });
      const failure = failures.findIndex((f) => request.path.startsWith(f.prefix));
      if (failure >= 0) {
        const [{ status }] = failures.splice(failure, 1) as [{ prefix: string; status: number }];
        return sendJson(response, status, { status: 'error', message: status >= 500 ? 'Internal Server Error' : 'Bad Request' });
      }
    }
    const [, op, rawId = ''] = /^\/([a-z-]+)\/(.+)$/.exec(request.path) ?? [];
    const id = decodeURIComponent(rawId);

    /** A published version is frozen: the first edit after publishing makes the next draft, for the agent and its LLM. */
    const draftOf = (agent: RetellFakeAgent) => {
      if (!agent.is_published) return;
      agent.version += 1;
      agent.is_published = false;
      if (agent.response_engine.type === 'retell-llm') {
        agent.response_engine.version = agent.version;
        const llm = ws.llms.get(agent.response_engine.llm_id);
        if (llm) {
          llm.version = agent.version;
          llm.is_published = false;
        }
      }
    };
    const agentsOfLlm = (llmId: string) => [...ws.agents.values()].filter((a) => a.response_engine.type === 'retell-llm' && a.response_engine.llm_id === llmId);

    if (op === 'publish-agent-version' && request.method === 'POST') {
      const agent = ws.agents.get(id);
      if (!agent) return notFound(response, 'Agent');
      if (typeof body.version !== 'number') return sendJson(response, 400, { status: 'error', message: 'version is required' });
      if (body.version !== agent.version || agent.is_published) return sendJson(response, 400, { status: 'error', message: `Version ${body.version} is not a draft of this agent` });
      agent.is_published = true;
      const llm = agent.response_engine.type === 'retell-llm' ? ws.llms.get(agent.response_engine.llm_id) : undefined;
      if (llm) llm.is_published = true;
      ws.published.set(agent.agent_id, [...(ws.published.get(agent.agent_id) ?? []), { version: agent.version, webhook_url: agent.webhook_url, general_tools: structuredClone(llm?.general_tools ?? []) }]);
      response.writeHead(200).end();
      return;
    }
    if (op === 'get-agent' && request.method === 'GET') {
      const agent = ws.agents.get(id);
      return agent ? sendJson(response, 200, agent) : notFound(response, 'Agent');
    }
    if (op === 'update-agent' && request.method === 'PATCH') {
      const agent = ws.agents.get(id);
      if (!agent) return notFound(response, 'Agent');
      draftOf(agent);
      if ('webhook_url' in body) agent.webhook_url = (body.webhook_url as string | null) ?? null;
      if (typeof body.agent_name === 'string') agent.agent_name = body.agent_name;
      agent.last_modification_timestamp = now();
      return sendJson(response, 200, agent);
    }
    if (op === 'get-retell-llm' && request.method === 'GET') {
      const llm = ws.llms.get(id);
      return llm ? sendJson(response, 200, llm) : notFound(response, 'LLM');
    }
    if (op === 'update-retell-llm' && request.method === 'PATCH') {
      const llm = ws.llms.get(id);
      if (!llm) return notFound(response, 'LLM');
      if ('general_tools' in body) {
        if (!Array.isArray(body.general_tools)) return sendJson(response, 400, { status: 'error', message: 'general_tools must be an array' });
        const tools = body.general_tools as Array<Record<string, unknown>>;
        const bad = tools.find((t) => typeof t.type !== 'string' || typeof t.name !== 'string' || (t.type === 'custom' && typeof t.url !== 'string'));
        if (bad) return sendJson(response, 400, { status: 'error', message: 'invalid tool in general_tools' });
        if (llm.is_published) {
          const agents = agentsOfLlm(llm.llm_id);
          for (const agent of agents) draftOf(agent);
          if (agents.length === 0) {
            llm.version += 1;
            llm.is_published = false;
          }
        }
        llm.general_tools = structuredClone(tools);
      }
      llm.last_modification_timestamp = now();
      return sendJson(response, 200, llm);
    }
    if (op === 'get-phone-number' && request.method === 'GET') {
      const number = ws.numbers.get(id);
      return number ? sendJson(response, 200, number) : notFound(response, 'Phone number');
    }
    if (op === 'update-phone-number' && request.method === 'PATCH') {
      const number = ws.numbers.get(id);
      if (!number) return notFound(response, 'Phone number');
      if ('inbound_webhook_url' in body) number.inbound_webhook_url = (body.inbound_webhook_url as string | null) ?? null;
      if ('inbound_agents' in body) {
        const agents = body.inbound_agents as Array<{ agent_id: string; weight: number }> | null;
        if (agents?.some((a) => !ws.agents.has(a.agent_id))) return sendJson(response, 400, { status: 'error', message: 'inbound agent not found' });
        number.inbound_agents = agents;
      }
      if ('nickname' in body) number.nickname = (body.nickname as string | null) ?? null;
      number.last_modification_timestamp = now();
      return sendJson(response, 200, number);
    }
    return sendJson(response, 404, { status: 'error', message: 'Not Found' });
  };

  const server = await startFakeServer(handle);
  return Object.assign(server, {
    writes,
    addWorkspace(spec: Parameters<RetellFake['addWorkspace']>[0]) {
      const ws: RetellFakeWorkspace = { apiKey: spec.apiKey, agents: new Map(), llms: new Map(), numbers: new Map(), published: new Map() };
      for (const a of spec.agents) {
        const llmId = a.llm_id ?? `llm_${a.agent_id}`;
        ws.llms.set(llmId, {
          llm_id: llmId,
          version: 0,
          is_published: a.published === true,
          general_prompt: 'You are a receptionist.',
          general_tools: structuredClone(a.tools ?? [{ type: 'end_call', name: 'end_call', description: 'End the call.' }]),
          last_modification_timestamp: now(),
        });
        ws.agents.set(a.agent_id, {
          agent_id: a.agent_id,
          version: 0,
          response_engine: { type: 'retell-llm', llm_id: llmId, version: 0 },
          webhook_url: a.webhook_url ?? null,
          voice_id: '11labs-Adrian',
          is_published: a.published === true,
          last_modification_timestamp: now(),
        });
        if (a.published === true) ws.published.set(a.agent_id, [{ version: 0, webhook_url: a.webhook_url ?? null, general_tools: structuredClone(ws.llms.get(llmId)?.general_tools ?? []) }]);
      }
      for (const n of spec.numbers ?? []) {
        ws.numbers.set(n.phone_number, {
          phone_number: n.phone_number,
          phone_number_type: 'retell-twilio',
          inbound_agents: n.agent_id ? [{ agent_id: n.agent_id, weight: 1 }] : null,
          inbound_webhook_url: n.inbound_webhook_url ?? null,
          nickname: null,
          last_modification_timestamp: now(),
        });
      }
      workspaces.set(spec.apiKey, ws);
      return ws;
    },
    workspace(apiKey: string) {
      const ws = workspaces.get(apiKey);
      if (!ws) throw new Error(`no workspace for ${apiKey}`);
      return ws;
    },
    failNext(pathPrefix: string, status: number) {
      failures.push({ prefix: pathPrefix, status });
    },
  });
}
