/**
 * Retell `general_tools` entries for one client's enabled functions (retell.md §4, §8.7): what
 * `xlnc clients tools <id>` prints and onboarding pushes to the client's Retell LLM.
 */
import type { ResolvedClientConfig } from '../clients/client.schema.ts';
import type { BuiltinFunctionName } from '../clients/client.schema.ts';
import { enabledFunctions, parametersFor, type EnabledFunction } from './function-catalog.ts';
import { publicUrls } from '../platform/public-urls.ts';

/** A Retell custom tool (`type: "custom"`) as accepted by create/update-retell-llm. */
export interface RetellCustomTool {
  type: 'custom';
  name: string;
  description: string;
  /** This client's function endpoint: the client id in the path selects the tenant. */
  url: string;
  method: 'POST';
  /** JSON Schema; top level is always `{ type: "object", properties, required? }`. */
  parameters: Record<string, unknown>;
  /** False: keep the `{ name, call, args }` envelope so the call context reaches us. */
  args_at_root: false;
  speak_during_execution: true;
  execution_message_type: 'prompt';
  /** What the agent says (in its own words) while the function runs. */
  execution_message_description: string;
  speak_after_execution: true;
  /** Per attempt, in milliseconds. Longer than our own upstream deadline, so the agent hears our apology, not a Retell timeout. */
  timeout_ms: number;
  /** Retell retries on any failure; a retried booking is deduplicated anyway, but a second try only delays the apology. */
  max_retry: 0;
}

const EXECUTION_MESSAGES: Record<BuiltinFunctionName, string> = {
  check_availability: 'Tell the caller you are checking the calendar.',
  book_appointment: 'Tell the caller you are booking the appointment now.',
  find_appointment: 'Tell the caller you are looking up their appointment.',
  reschedule_appointment: 'Tell the caller you are moving the appointment.',
  cancel_appointment: 'Tell the caller you are cancelling the appointment.',
  get_business_info: 'Tell the caller you are checking that for them.',
  take_message: 'Tell the caller you are writing the message down.',
  send_sms_link: 'Tell the caller you are sending the text message now.',
};

/** Built-ins that write to the client's calendar provider, which can be slow (Zoho). */
const CALENDAR_WRITES: readonly BuiltinFunctionName[] = ['book_appointment', 'reschedule_appointment', 'cancel_appointment'];

const DEFAULT_TIMEOUT_MS = 5000;
const CALENDAR_WRITE_TIMEOUT_MS = 8000;
/** Our own handling on top of a client endpoint's `timeout_ms` (verify, store, answer). */
const HTTP_OVERHEAD_MS = 2000;

function executionMessageFor(fn: EnabledFunction): string {
  switch (fn.kind) {
    case 'builtin':
      return EXECUTION_MESSAGES[fn.name];
    case 'static':
      return 'Tell the caller, briefly, that you are checking that.';
    case 'http':
      return 'Tell the caller you are looking that up.';
  }
}

function timeoutFor(fn: EnabledFunction): number {
  switch (fn.kind) {
    case 'builtin':
      return CALENDAR_WRITES.includes(fn.name) ? CALENDAR_WRITE_TIMEOUT_MS : DEFAULT_TIMEOUT_MS;
    case 'static':
      return DEFAULT_TIMEOUT_MS;
    case 'http':
      return Math.max(DEFAULT_TIMEOUT_MS, fn.timeout_ms + HTTP_OVERHEAD_MS);
  }
}

/** A plain, mutable copy with the object shape Retell requires at the top level. */
function toolParameters(fn: EnabledFunction): Record<string, unknown> {
  const schema = structuredClone(parametersFor(fn));
  return { ...schema, type: 'object', properties: schema.properties ?? {} };
}

export function retellToolsFor(client: { id: string; config: ResolvedClientConfig }, publicBaseUrl: string): RetellCustomTool[] {
  const urls = publicUrls(publicBaseUrl);
  return enabledFunctions(client.config).map((fn) => ({
    type: 'custom',
    name: fn.name,
    description: fn.description,
    url: urls.retellFunction(client.id, fn.name),
    method: 'POST',
    parameters: toolParameters(fn),
    args_at_root: false,
    speak_during_execution: true,
    execution_message_type: 'prompt',
    execution_message_description: executionMessageFor(fn),
    speak_after_execution: true,
    timeout_ms: timeoutFor(fn),
    max_retry: 0,
  }));
}
