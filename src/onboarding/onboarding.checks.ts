/**
 * The live checks of onboarding and doctor, one per part: each says pass, fail (with what to do)
 * or skip (with why), and reaches only the provider it names. A test client's capability without
 * an `api_base_url` is never contacted (provider-endpoint.ts) and is skipped, saying so.
 */
import { MailService } from '@sendgrid/mail';
import { Client as SendgridClient } from '@sendgrid/client';
import type { ResolvedClientConfig } from '../clients/client.schema.ts';
import { providerTarget } from '../integrations/provider-endpoint.ts';
import { callProvider } from '../integrations/provider-call.ts';
import { parseMailbox, sendgridDefaultBaseUrl } from '../integrations/email/sendgrid.ts';
import { text180DefaultUrl, text180SendXml } from '../integrations/sms/text180.ts';
import { twilioClientFor, twilioDefaultBaseUrl, twilioError, twilioMessagingDefaultBaseUrl } from '../integrations/sms/twilio.ts';
import { renderEmail, renderSms, templatesFor, validateEmailTemplates, validateSmsTemplates } from '../integrations/templates/templates.ts';
import { zohoApiRequest } from '../integrations/zoho/zoho-api.ts';
import { createZohoTokenSource, zohoAccountsBaseUrl, zohoCalendarBaseUrl, zohoMailBaseUrl } from '../integrations/zoho/zoho-oauth.ts';
import { ProviderError, providerFetch, readCapped, type ProviderContext } from '../platform/provider-http.ts';
import { createMemoryCache } from '../platform/redis.ts';
import { createRetellManagement, retellErrorCode, type RetellAgentState, type RetellManagement, type RetellNumberState } from './retell-management.ts';

export type CheckPart = 'config' | 'retell' | 'calendar' | 'sms' | 'email' | 'templates';
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  part: CheckPart;
  label: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export interface CheckClient {
  id: string;
  config: ResolvedClientConfig;
}

/** What the Retell checks found, handed to the plan so nothing is fetched twice. */
export interface RetellSnapshot {
  management: RetellManagement;
  agents: Map<string, RetellAgentState>;
  numbers: Map<string, RetellNumberState>;
}

export interface CheckRun {
  results: CheckResult[];
  /** Undefined when Retell is sandboxed (a test client without retell.api_base_url) or a check failed. */
  retell: RetellSnapshot | undefined;
  ok: boolean;
}

export interface CheckOptions {
  ctx: ProviderContext;
  onCheck?: (result: CheckResult) => void;
  onStart?: (check: { id: string; part: CheckPart; label: string }) => void;
  timeoutMs?: number;
}

type Outcome = Omit<CheckResult, 'id' | 'part' | 'label'>;
const pass = (detail: string): Outcome => ({ status: 'pass', detail });
const fail = (detail: string, fix: string): Outcome => ({ status: 'fail', detail, fix });
const skip = (detail: string): Outcome => ({ status: 'skip', detail });

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 240) : String(error);
}

export async function runChecks(client: CheckClient, options: CheckOptions): Promise<CheckRun> {
  const { ctx } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const config = client.config;
  const results: CheckResult[] = [];
  const run = async (id: string, part: CheckPart, label: string, work: () => Promise<Outcome>): Promise<CheckResult> => {
    options.onStart?.({ id, part, label });
    let outcome: Outcome;
    try {
      outcome = await work();
    } catch (error) {
      outcome = fail(`unexpected error: ${describe(error)}`, 'try again; if it persists, check the provider status page');
    }
    const result = { id, part, label, ...outcome };
    results.push(result);
    options.onCheck?.(result);
    return result;
  };

  // Retell: the key (through the first agent), every agent, every number.
  let retell: RetellSnapshot | undefined;
  const retellTarget = providerTarget(config.environment, config.retell.api_base_url, 'https://api.retellai.com');
  if (retellTarget.kind === 'sandbox') {
    await run('retell.key', 'retell', 'Retell API key', async () => skip('test client without retell.api_base_url: Retell is not contacted and nothing is provisioned'));
  } else {
    const management = createRetellManagement({ clientId: client.id, apiKey: config.retell.api_key, baseUrl: retellTarget.baseUrl, ctx, timeoutMs });
    const agents = new Map<string, RetellAgentState>();
    const numbers = new Map<string, RetellNumberState>();
    let keyOk = true;
    const first = config.retell.agent_ids[0] ?? '';
    let firstAgent: RetellAgentState | 'missing' | undefined;
    const key = await run('retell.key', 'retell', 'Retell API key', async () => {
      try {
        firstAgent = await management.getAgent(first);
        return pass('accepted by Retell');
      } catch (error) {
        const code = retellErrorCode(error);
        if (code === 'not_found') {
          firstAgent = 'missing';
          return pass('accepted by Retell');
        }
        keyOk = false;
        if (code === 'unauthorized') return fail('Retell rejected the API key (401)', 'copy the API key of the workspace that holds the agents (Retell dashboard → Settings → API Keys) into retell.api_key');
        return fail(`Retell did not answer: ${describe(error)}`, 'check retell.api_base_url and the network, then run again');
      }
    });
    if (key.status === 'pass') {
      for (const agentId of config.retell.agent_ids) {
        await run(`retell.agent.${agentId}`, 'retell', `Retell agent ${agentId}`, async () => {
          try {
            const agent = agentId === first && firstAgent !== undefined ? firstAgent : await management.getAgent(agentId);
            if (agent === 'missing') throw new ProviderError({ provider: 'retell', operation: 'get_agent', message: 'not found', retryable: false, code: 'not_found', status: 404 });
            agents.set(agentId, agent);
            return pass(agent.llm_id ? `exists (Retell LLM ${agent.llm_id})` : 'exists (not a Retell LLM agent: its tools are not managed here)');
          } catch (error) {
            if (retellErrorCode(error) === 'not_found') return fail(`agent ${agentId} does not exist in this Retell workspace`, 'check retell.agent_ids against the Retell dashboard (Agents), or use the API key of the workspace that holds it');
            return fail(`Retell did not answer: ${describe(error)}`, 'run again');
          }
        });
      }
      for (const phone of config.retell.phone_numbers) {
        await run(`retell.number.${phone}`, 'retell', `Retell phone number ${phone}`, async () => {
          try {
            numbers.set(phone, await management.getNumber(phone));
            return pass('exists');
          } catch (error) {
            if (retellErrorCode(error) === 'not_found') return fail(`phone number ${phone} is not in this Retell workspace`, 'buy or import it in Retell (Phone Numbers), or fix retell.phone_numbers');
            return fail(`Retell did not answer: ${describe(error)}`, 'run again');
          }
        });
      }
    }
    if (keyOk && agents.size === config.retell.agent_ids.length && numbers.size === config.retell.phone_numbers.length) retell = { management, agents, numbers };
  }

  await runCalendarChecks(client, ctx, timeoutMs, run);
  await runSmsChecks(client, ctx, timeoutMs, run);
  await runEmailChecks(client, ctx, timeoutMs, run);

  await run('templates', 'templates', `Message templates (${config.industry})`, async () => {
    const issues = [...validateSmsTemplates(config), ...validateEmailTemplates(config)];
    const templates = templatesFor(config);
    const values = { customer_name: 'Jane Roe', business_name: config.name, appointment_time: 'Tuesday at 10:00 AM', call_time: 'Tuesday at 9:58 AM', caller_phone: '+14155550142', call_summary: 'Booked a visit.', link_url: 'https://example.com/l' };
    const missing = [...renderSms(templates, 'confirmation', values).missing, ...renderEmail(templates, 'summary', values).missing];
    if (issues.length > 0) return fail(issues.map((i) => `${i.path}: ${i.message}`).join('; '), 'edit the templates named above (or remove them to use the industry defaults)');
    return pass(missing.length > 0 ? `render (variables left empty when unknown: ${[...new Set(missing)].join(', ')})` : 'render');
  });

  return { results, retell, ok: results.every((r) => r.status !== 'fail') };
}

type Run = (id: string, part: CheckPart, label: string, work: () => Promise<Outcome>) => Promise<CheckResult>;

const zohoFixes: Record<string, string> = {
  invalid_client: 'the Zoho client id is wrong or belongs to another data center: check calendar.oauth.client_id and calendar.data_center',
  invalid_client_secret: 'the Zoho client secret is wrong: copy it again from the Zoho API console into calendar.oauth.client_secret',
  invalid_code: 'the refresh token is revoked or wrong: connect Zoho again (xlnc zoho connect <id>, or "Connect Zoho" in the console)',
};

async function runCalendarChecks(client: CheckClient, ctx: ProviderContext, timeoutMs: number, run: Run): Promise<void> {
  const calendar = client.config.calendar;
  if (calendar.provider === 'internal') {
    await run('calendar', 'calendar', 'Calendar', async () => pass("the platform's own appointment book"));
    return;
  }
  const target = providerTarget(client.config.environment, calendar.api_base_url, zohoCalendarBaseUrl(calendar.data_center));
  if (target.kind === 'sandbox') {
    await run('calendar.zoho', 'calendar', 'Zoho Calendar', async () => skip('test client without calendar.api_base_url: Zoho is not contacted'));
    return;
  }
  const tokens = createZohoTokenSource({
    ctx,
    cache: createMemoryCache(),
    clientId: client.id,
    dataCenter: calendar.data_center,
    oauth: calendar.oauth,
    accountsBaseUrl: calendar.accounts_base_url ?? (client.config.environment === 'test' ? calendar.api_base_url : zohoAccountsBaseUrl(calendar.data_center)),
    timeoutMs,
  });
  const refresh = await run('calendar.zoho.token', 'calendar', `Zoho sign-in (${calendar.data_center})`, async () => {
    try {
      await tokens.getAccessToken();
      return pass('refresh token works');
    } catch (error) {
      const code = error instanceof ProviderError ? (error.code ?? '') : '';
      return fail(`Zoho refused the token refresh (${code || describe(error)})`, zohoFixes[code] ?? 'run again later; Zoho may be throttling refreshes');
    }
  });
  if (refresh.status !== 'pass') return;
  await run('calendar.zoho.calendar', 'calendar', `Zoho calendar ${calendar.calendar_id}`, async () => {
    const response = await zohoApiRequest(ctx, tokens, {
      clientId: client.id,
      provider: 'zoho_calendar',
      operation: 'list_calendars',
      url: `${zohoCalendarBaseUrl(calendar.data_center, target.baseUrl)}/calendars`,
      method: 'GET',
      timeoutMs,
      idempotent: true,
    });
    if (!response.ok) return fail(`Zoho Calendar answered HTTP ${response.status}`, 'grant the ZohoCalendar.calendar.READ scope when connecting Zoho');
    const uids = ((response.json as { calendars?: Array<{ uid?: string }> } | undefined)?.calendars ?? []).map((c) => c.uid);
    return uids.includes(calendar.calendar_id)
      ? pass('exists')
      : fail(`calendar ${calendar.calendar_id} is not among this account's calendars (${uids.length} found)`, 'copy the calendar uid from Zoho Calendar → Settings → My calendars into calendar.calendar_id');
  });
}

async function runSmsChecks(client: CheckClient, ctx: ProviderContext, timeoutMs: number, run: Run): Promise<void> {
  const sms = client.config.sms;
  if (sms === undefined) return;
  switch (sms.provider) {
    case 'twilio': {
      const target = providerTarget(client.config.environment, sms.api_base_url, twilioDefaultBaseUrl);
      if (target.kind === 'sandbox') {
        await run('sms.twilio', 'sms', 'Twilio', async () => skip('test client without sms.api_base_url: Twilio is not contacted'));
        return;
      }
      const base = `${target.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${sms.account_sid}`;
      const get = async (operation: string, url: string) => {
        const response = await providerFetch(ctx, {
          clientId: client.id,
          provider: 'twilio',
          operation,
          url,
          init: { method: 'GET', headers: { authorization: `Basic ${Buffer.from(`${sms.account_sid}:${sms.auth_token}`).toString('base64')}`, accept: 'application/json' } },
          timeoutMs,
          idempotent: true,
        });
        const text = await readCapped(response, 256 * 1024);
        let json: unknown;
        try {
          json = JSON.parse(text) as unknown;
        } catch {
          json = undefined;
        }
        return { status: response.status, json };
      };
      const account = await run('sms.twilio.account', 'sms', 'Twilio account', async () => {
        const { status, json } = await get('fetch_account', `${base}.json`);
        if (status === 401) return fail('Twilio rejected the Account SID and auth token (401)', 'copy the Account SID and Auth Token from the Twilio console (Account Info) into sms.account_sid and sms.auth_token');
        if (status !== 200) return fail(`Twilio answered HTTP ${status}`, 'run again');
        const state = (json as { status?: string } | undefined)?.status;
        return state === 'active' ? pass('active') : fail(`the account is ${state ?? 'not active'}`, 'reactivate the Twilio account');
      });
      if (account.status !== 'pass') return;
      if (sms.messaging_service_sid !== undefined) {
        const serviceSid = sms.messaging_service_sid;
        await run('sms.twilio.messaging_service', 'sms', `Twilio Messaging Service ${serviceSid}`, async () => {
          // Messaging Services live on messaging.twilio.com (GET /v1/Services/{sid}); a configured
          // api_base_url (a proxy, a fake) stands in for every Twilio host, as it does for sending.
          const sdk = twilioClientFor(sms, sms.api_base_url ?? twilioMessagingDefaultBaseUrl, timeoutMs);
          const call = { clientId: client.id, provider: 'twilio', operation: 'fetch_messaging_service', timeoutMs, idempotent: true } as const;
          try {
            const service = await callProvider(ctx, call, () => sdk.messaging.v1.services(serviceSid).fetch(), (error) => twilioError(call, error));
            if (service.accountSid !== sms.account_sid) return fail(`${serviceSid} belongs to another Twilio account`, 'use the Account SID and auth token of the account that owns the Messaging Service');
            return pass(`exists in this account (${service.friendlyName})`);
          } catch (error) {
            const status = error instanceof ProviderError ? error.status : undefined;
            if (status === 404) return fail(`Messaging Service ${serviceSid} does not exist in this Twilio account (20404)`, 'copy the Messaging Service SID (MG…) from Twilio Console → Messaging → Services into sms.messaging_service_sid, or use the credentials of the account that owns it');
            return fail(`Twilio did not answer: ${describe(error)}`, 'run again');
          }
        });
      }
      if (sms.from_number !== undefined) {
        const from = sms.from_number;
        await run('sms.twilio.sender', 'sms', `Twilio sender ${from}`, async () => {
          if (!from.startsWith('+')) return skip('an alphanumeric sender or short code: not checked');
          const { status, json } = await get('list_numbers', `${base}/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(from)}`);
          if (status !== 200) return fail(`Twilio answered HTTP ${status}`, 'run again');
          const numbers = (json as { incoming_phone_numbers?: Array<{ phone_number?: string; capabilities?: { sms?: boolean } }> } | undefined)?.incoming_phone_numbers ?? [];
          const found = numbers.find((n) => n.phone_number === from);
          if (!found) return fail(`${from} is not a number of this Twilio account`, 'set sms.from_number to one of the account’s numbers (Phone Numbers → Active numbers)');
          return found.capabilities?.sms === false ? fail(`${from} cannot send SMS`, 'use an SMS-capable number') : pass('a number of this account, SMS-capable');
        });
      }
      return;
    }
    case 'text180': {
      const target = providerTarget(client.config.environment, sms.api_base_url, text180DefaultUrl);
      if (target.kind === 'sandbox') {
        await run('sms.text180', 'sms', 'Text180', async () => skip('test client without sms.api_base_url: Text180 is not contacted'));
        return;
      }
      await run('sms.text180.key', 'sms', 'Text180 auth key', async () => {
        // No recipient: the key is checked and nothing can be sent (an empty contact list is refused after the key).
        const response = await providerFetch(ctx, {
          clientId: client.id,
          provider: 'text180',
          operation: 'check_key',
          url: target.baseUrl,
          init: { method: 'POST', headers: { 'content-type': 'text/xml' }, body: text180SendXml(sms, '', 'key check').replace(/<contact_number>[\s\S]*?<\/contact_number>/g, '') },
          timeoutMs,
          idempotent: true,
        });
        const text = await readCapped(response, 64 * 1024);
        if (/Invalid auth key/i.test(text)) return fail('Text180 rejected the auth key and account id', 'copy the auth key and account id from the Text180 members area into sms.auth_key and sms.account_id');
        if (!response.ok) return fail(`Text180 answered HTTP ${response.status}`, 'run again');
        return pass('accepted');
      });
      return;
    }
  }
}

async function runEmailChecks(client: CheckClient, ctx: ProviderContext, timeoutMs: number, run: Run): Promise<void> {
  const email = client.config.email;
  if (email === undefined) return;
  switch (email.provider) {
    case 'sendgrid': {
      const target = providerTarget(client.config.environment, email.api_base_url, sendgridDefaultBaseUrl);
      if (target.kind === 'sandbox') {
        await run('email.sendgrid', 'email', 'SendGrid', async () => skip('test client without email.api_base_url: SendGrid is not contacted'));
        return;
      }
      await run('email.sendgrid.send', 'email', `SendGrid key and sender ${email.from}`, async () => {
        const sgClient = new SendgridClient();
        sgClient.setApiKey(email.api_key);
        sgClient.setDefaultRequest('baseUrl', target.baseUrl.endsWith('/') ? target.baseUrl : `${target.baseUrl}/`);
        const mail = new MailService();
        mail.setClient(sgClient);
        mail.setTimeout(timeoutMs);
        const from = parseMailbox(email.from);
        try {
          // Sandbox mode: SendGrid validates the key, sender and message and delivers nothing.
          await callProvider(
            ctx,
            { clientId: client.id, provider: 'sendgrid', operation: 'check_send', timeoutMs, idempotent: true },
            () =>
              mail.send({
                to: client.config.notifications.business_email ?? from.email,
                from,
                subject: 'XLNC onboarding check',
                content: [{ type: 'text/plain', value: 'Sandbox check: not delivered.' }],
                mailSettings: { sandboxMode: { enable: true } },
              }),
            (error) => new ProviderError({ provider: 'sendgrid', operation: 'check_send', message: describe(error), retryable: false, ...(statusOf(error) !== undefined ? { status: statusOf(error) } : {}) }),
          );
          return pass('the key can send from this address (sandbox mode: nothing delivered)');
        } catch (error) {
          const status = error instanceof ProviderError ? error.status : undefined;
          if (status === 401) return fail('SendGrid rejected the API key (401)', 'create a key with Mail Send permission (SendGrid → Settings → API Keys) and put it in email.api_key');
          if (status === 403) return fail(`SendGrid refused the sender ${from.email} (403: not a verified Sender Identity)`, 'verify the sender or its domain in SendGrid (Settings → Sender Authentication), or change email.from');
          return fail(`SendGrid did not accept the check: ${describe(error)}`, 'run again');
        }
      });
      return;
    }
    case 'zoho': {
      const target = providerTarget(client.config.environment, email.api_base_url, zohoMailBaseUrl(email.data_center));
      if (target.kind === 'sandbox') {
        await run('email.zoho', 'email', 'Zoho Mail', async () => skip('test client without email.api_base_url: Zoho Mail is not contacted'));
        return;
      }
      const tokens = createZohoTokenSource({
        ctx,
        cache: createMemoryCache(),
        clientId: client.id,
        dataCenter: email.data_center,
        oauth: email.oauth,
        accountsBaseUrl: email.accounts_base_url ?? (client.config.environment === 'test' ? email.api_base_url : zohoAccountsBaseUrl(email.data_center)),
        timeoutMs,
      });
      await run('email.zoho.account', 'email', `Zoho Mail account ${email.account_id}`, async () => {
        let response;
        try {
          response = await zohoApiRequest(ctx, tokens, { clientId: client.id, provider: 'zoho_mail', operation: 'list_accounts', url: `${zohoMailBaseUrl(email.data_center, target.baseUrl)}/accounts`, method: 'GET', timeoutMs, idempotent: true });
        } catch (error) {
          const code = error instanceof ProviderError ? (error.code ?? '') : '';
          return fail(`Zoho refused the token refresh (${code || describe(error)})`, (zohoFixes[code] ?? 'run again later').replaceAll('calendar.', 'email.'));
        }
        if (!response.ok) return fail(`Zoho Mail answered HTTP ${response.status}`, 'grant the ZohoMail.accounts.READ scope');
        const accounts = (response.json as { data?: Array<{ accountId?: string; sendMailDetails?: Array<{ fromAddress?: string }> }> } | undefined)?.data ?? [];
        const account = accounts.find((a) => a.accountId === email.account_id);
        if (!account) return fail(`Zoho Mail account ${email.account_id} does not exist for this sign-in`, 'copy the account id from Zoho Mail (GET /api/accounts) into email.account_id');
        const fromEmail = parseMailbox(email.from).email;
        const allowed = (account.sendMailDetails ?? []).map((d) => d.fromAddress);
        return allowed.includes(fromEmail) ? pass('exists; the from address is one of its senders') : fail(`${fromEmail} is not a from address of this Zoho Mail account`, 'change email.from to one of the account’s addresses');
      });
      return;
    }
  }
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
