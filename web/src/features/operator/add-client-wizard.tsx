/**
 * "Add client" and "Doctor": the console's faces of the onboarding engine (src/onboarding). The
 * wizard posts the answers to /api/admin/onboarding and shows each check as the server streams it
 * (NDJSON), then the summary: webhook and function URLs, what was provisioned, next steps. A Zoho
 * calendar is connected first ("Connect Zoho": the consent opens in a new tab; the wizard waits).
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Dialog } from 'radix-ui';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../../lib/api.ts';

interface CheckResult {
  id: string;
  label: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

interface Outcome {
  ok: boolean;
  clientId: string;
  dryRun: boolean;
  failure?: { part: string; message: string; fix: string };
  plan: string[];
  provisioned: string[];
  written?: string;
  webhookUrl: string;
  functionUrls: Array<{ name: string; url: string }>;
  retellSandboxed: boolean;
  nextSteps: string[];
}

type Event =
  | { type: 'step'; message: string }
  | { type: 'check_started'; id: string; label: string }
  | { type: 'check'; result: CheckResult }
  | { type: 'plan'; actions: string[] }
  | { type: 'provision'; action: string; status: string }
  | { type: 'done'; outcome: Outcome };

const STATUS_TEXT = { pass: 'Pass', fail: 'Fail', skip: 'Skipped' } as const;

function CheckList({ checks, running }: { checks: CheckResult[]; running: string | undefined }) {
  return (
    <ul className="check-list" aria-label="Checks">
      {checks.map((check) => (
        <li key={check.id} className={`check check-${check.status}`}>
          <strong>{STATUS_TEXT[check.status]}</strong> {check.label}: {check.detail}
          {check.fix ? <div className="check-fix">Fix: {check.fix}</div> : null}
        </li>
      ))}
      {running ? <li className="check check-running">Checking {running}…</li> : null}
    </ul>
  );
}

const list = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function AddClientWizard() {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [checks, setChecks] = useState<CheckResult[]>([]);
  const [running, setRunning] = useState<string>();
  const [log, setLog] = useState<string[]>([]);
  const [outcome, setOutcome] = useState<Outcome>();
  const [calendar, setCalendar] = useState<'internal' | 'zoho'>('internal');
  const [zoho, setZoho] = useState<{ id: string; status: string }>();

  // The form fills the dialog: as each check arrives, its end is scrolled into view (the dialog
  // scrolls, not the page), so the operator watches the checks run instead of a form that looks idle.
  // When it ends, the summary's top is shown (its heading says onboarded or not, and why).
  const resultsRef = useRef<HTMLDivElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (outcome !== undefined) summaryRef.current?.scrollIntoView({ block: 'start' });
    else if (checks.length > 0 || running !== undefined || log.length > 0) resultsRef.current?.scrollIntoView({ block: 'end' });
  }, [checks.length, running, log.length, outcome]);

  const reset = () => {
    setChecks([]);
    setRunning(undefined);
    setLog([]);
    setOutcome(undefined);
  };

  const answersFrom = (form: FormData) => {
    const get = (name: string) => {
      const value = form.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    const hours = get('hours') || '09:00-17:00';
    const answers: Record<string, unknown> = {
      client_id: get('client_id'),
      name: get('name'),
      industry: get('industry') || 'general',
      timezone: get('timezone') || 'America/New_York',
      environment: get('environment') || 'test',
      business_hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [hours]])),
      retell: {
        api_key: get('retell_api_key'),
        agent_ids: list(get('agent_ids')),
        phone_numbers: list(get('phone_numbers')),
        ...(get('retell_api_base_url') ? { api_base_url: get('retell_api_base_url') } : {}),
      },
      calendar:
        calendar === 'zoho'
          ? {
              provider: 'zoho',
              data_center: get('zoho_data_center') || 'us',
              calendar_id: get('zoho_calendar_id'),
              oauth: { client_id: get('zoho_client_id'), client_secret: get('zoho_client_secret') },
              ...(get('zoho_api_base_url') ? { api_base_url: get('zoho_api_base_url'), accounts_base_url: get('zoho_api_base_url') } : {}),
            }
          : { provider: 'internal' },
    };
    if (get('business_email')) answers.notifications = { business_email: get('business_email') };
    return answers;
  };

  const connect = useMutation({
    mutationFn: async (form: FormData) => {
      const get = (name: string) => {
        const value = form.get(name);
        return typeof value === 'string' ? value.trim() : '';
      };
      const started = await api.post('/api/admin/zoho/connect', {
        client_id: get('client_id'),
        data_center: (get('zoho_data_center') || 'us') as 'us',
        oauth_client_id: get('zoho_client_id'),
        oauth_client_secret: get('zoho_client_secret'),
        ...(get('zoho_api_base_url') ? { accounts_base_url: get('zoho_api_base_url') } : {}),
      });
      setZoho({ id: started.id, status: 'pending' });
      window.open(started.authorize_url, '_blank', 'noopener');
      for (let i = 0; i < 900; i++) {
        const status = await api.get('/api/admin/zoho/connect/{id}', { path: { id: started.id } });
        setZoho({ id: started.id, status: status.status });
        if (status.status !== 'pending') return status;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      return undefined;
    },
  });

  const onboard = useMutation({
    mutationFn: async ({ form, dryRun }: { form: FormData; dryRun: boolean }) => {
      reset();
      await api.stream('/api/admin/onboarding', { answers: answersFrom(form), dry_run: dryRun, update: false, ...(calendar === 'zoho' && zoho?.status === 'connected' ? { zoho_connection_id: zoho.id } : {}) }, (line) => {
        const event = line as Event;
        switch (event.type) {
          case 'check_started':
            setRunning(event.label);
            break;
          case 'check':
            setRunning(undefined);
            setChecks((previous) => [...previous, event.result]);
            break;
          case 'step':
            setLog((previous) => [...previous, event.message]);
            break;
          case 'plan':
            setLog((previous) => [...previous, ...(event.actions.length === 0 ? ['Retell: no change'] : event.actions.map((a) => `Change: ${a}`))]);
            break;
          case 'provision':
            setLog((previous) => [...previous, `${event.status.replace('_', ' ')}: ${event.action}`]);
            break;
          case 'done':
            setOutcome(event.outcome);
            break;
        }
      });
      await queryClient.invalidateQueries({ queryKey: ['admin', 'clients'] });
    },
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    onboard.mutate({ form: new FormData(event.currentTarget), dryRun: submitter?.value === 'dry-run' });
  };

  return (
    <Dialog.Root
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) reset();
      }}
    >
      <Dialog.Trigger asChild>
        <button type="button" className="button button-primary">
          Add client
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog" aria-describedby="add-client-description">
          <Dialog.Title>Add a client</Dialog.Title>
          <p id="add-client-description" className="muted">
            Every part is checked live, Retell is wired to this service, then the client is saved. Nothing is saved or changed unless every check passes.
          </p>
          <form onSubmit={submit} className="wizard" aria-label="Add a client">
            <fieldset>
              <legend>Business</legend>
              <label className="field">
                <span>Client id</span>
                <input name="client_id" required pattern="[a-z0-9][a-z0-9\-]{1,62}" placeholder="bright-smile-dental" />
              </label>
              <label className="field">
                <span>Business name</span>
                <input name="name" required />
              </label>
              <label className="field">
                <span>Industry</span>
                <select name="industry" defaultValue="general">
                  <option value="general">General</option>
                  <option value="medical">Medical</option>
                  <option value="tax_preparation">Tax preparation</option>
                  <option value="salon">Salon</option>
                </select>
              </label>
              <label className="field">
                <span>Time zone</span>
                <input name="timezone" defaultValue="America/New_York" />
              </label>
              <label className="field">
                <span>Opening hours, Monday to Friday</span>
                <input name="hours" defaultValue="09:00-17:00" />
              </label>
              <label className="field">
                <span>Environment</span>
                <select name="environment" defaultValue="test">
                  <option value="test">Test (nothing is sent)</option>
                  <option value="live">Live</option>
                </select>
              </label>
              <label className="field">
                <span>Call summaries go to (email)</span>
                <input name="business_email" type="email" />
              </label>
            </fieldset>
            <fieldset>
              <legend>Retell</legend>
              <label className="field">
                <span>Retell API key</span>
                <input name="retell_api_key" type="password" required autoComplete="off" />
              </label>
              <label className="field">
                <span>Agent ids (comma-separated)</span>
                <input name="agent_ids" required />
              </label>
              <label className="field">
                <span>Phone numbers (E.164, comma-separated)</span>
                <input name="phone_numbers" />
              </label>
              <label className="field">
                <span>Retell API base URL (optional)</span>
                <input name="retell_api_base_url" type="url" placeholder="https://api.retellai.com" />
              </label>
            </fieldset>
            <fieldset>
              <legend>Calendar</legend>
              <label className="field">
                <span>Calendar</span>
                <select name="calendar" value={calendar} onChange={(e) => setCalendar(e.target.value === 'zoho' ? 'zoho' : 'internal')}>
                  <option value="internal">The platform&apos;s appointment book</option>
                  <option value="zoho">Zoho Calendar</option>
                </select>
              </label>
              {calendar === 'zoho' ? (
                <>
                  <label className="field">
                    <span>Zoho data center</span>
                    <select name="zoho_data_center" defaultValue="us">
                      {['us', 'eu', 'in', 'au', 'jp', 'cn', 'ca', 'sa', 'uk'].map((dc) => (
                        <option key={dc} value={dc}>
                          {dc.toUpperCase()}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label className="field">
                    <span>Zoho OAuth client id</span>
                    <input name="zoho_client_id" />
                  </label>
                  <label className="field">
                    <span>Zoho OAuth client secret</span>
                    <input name="zoho_client_secret" type="password" autoComplete="off" />
                  </label>
                  <label className="field">
                    <span>Zoho calendar uid</span>
                    <input name="zoho_calendar_id" />
                  </label>
                  <label className="field">
                    <span>Zoho API base URL (optional)</span>
                    <input name="zoho_api_base_url" type="url" />
                  </label>
                  <button type="button" className="button" disabled={connect.isPending} onClick={(e) => connect.mutate(new FormData(e.currentTarget.form ?? undefined))}>
                    {connect.isPending ? 'Waiting for Zoho…' : 'Connect Zoho'}
                  </button>
                  <p role="status" className="muted">
                    {zoho ? `Zoho: ${zoho.status}` : 'Connect Zoho before onboarding: the consent opens in a new tab.'}
                  </p>
                </>
              ) : null}
            </fieldset>
            <div className="filter-actions">
              <button type="submit" value="dry-run" className="button" disabled={onboard.isPending}>
                Dry run
              </button>
              <button type="submit" value="onboard" className="button button-primary" disabled={onboard.isPending}>
                {onboard.isPending ? 'Onboarding…' : 'Verify and onboard'}
              </button>
            </div>
          </form>
          <div ref={resultsRef} className="wizard-results">
            {checks.length > 0 || running ? <CheckList checks={checks} running={running} /> : null}
            {log.length > 0 ? (
              <ul className="muted small" aria-label="Progress">
                {log.map((line, index) => (
                  <li key={index}>{line}</li>
                ))}
              </ul>
            ) : null}
            {onboard.error ? <p role="alert">{onboard.error.message}</p> : null}
            {outcome ? (
              <div ref={summaryRef}>
                <Summary outcome={outcome} />
              </div>
            ) : null}
          </div>
          <Dialog.Close asChild>
            <button type="button" className="button button-quiet">
              Close
            </button>
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function Summary({ outcome }: { outcome: Outcome }) {
  if (!outcome.ok) {
    return (
      <div role="alert" className="summary summary-failed">
        <h3>Not onboarded</h3>
        <p>{outcome.failure?.message}</p>
        <p>Fix: {outcome.failure?.fix}</p>
        <p>Nothing was saved.</p>
      </div>
    );
  }
  return (
    <div role="status" className="summary">
      <h3>{outcome.dryRun ? `Dry run for ${outcome.clientId}: nothing changed` : `${outcome.clientId} is onboarded`}</h3>
      <p>
        Webhook URL: <code>{outcome.webhookUrl}</code>
      </p>
      <details>
        <summary>Function URLs ({outcome.functionUrls.length})</summary>
        <ul>
          {outcome.functionUrls.map((fn) => (
            <li key={fn.name}>
              {fn.name}: <code>{fn.url}</code>
            </li>
          ))}
        </ul>
      </details>
      <p>{outcome.retellSandboxed ? 'Retell: not contacted (test client without a Retell API base URL).' : outcome.dryRun ? `Retell would change: ${outcome.plan.length}` : `Provisioned in Retell: ${outcome.provisioned.length === 0 ? 'no change' : outcome.provisioned.join('; ')}`}</p>
      <ul>
        {outcome.nextSteps.map((step) => (
          <li key={step}>{step}</li>
        ))}
      </ul>
    </div>
  );
}

interface DoctorReport {
  ok: boolean;
  drift: string[];
  retell_sandboxed: boolean;
  checks: CheckResult[];
}

export function DoctorButton({ clientId }: { clientId: string }) {
  const [report, setReport] = useState<DoctorReport>();
  const doctor = useMutation({
    mutationFn: async () => setReport((await api.post('/api/admin/clients/{id}/doctor', {}, { path: { id: clientId } })) as unknown as DoctorReport),
  });
  return (
    <Dialog.Root onOpenChange={(next) => (next ? doctor.mutate() : setReport(undefined))}>
      <Dialog.Trigger asChild>
        <button type="button" className="button button-small" aria-label={`Doctor for ${clientId}`}>
          Doctor
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog" aria-describedby={undefined}>
          <Dialog.Title>Doctor: {clientId}</Dialog.Title>
          {doctor.isPending ? <p role="status">Checking…</p> : null}
          {doctor.error ? <p role="alert">{doctor.error.message}</p> : null}
          {report ? (
            <>
              <CheckList checks={report.checks} running={undefined} />
              <p role="status">{report.retell_sandboxed ? 'Drift: not checked (test client without a Retell API base URL).' : report.drift.length === 0 ? 'Drift: none, Retell matches.' : `Drift: ${report.drift.join('; ')}`}</p>
            </>
          ) : null}
          <Dialog.Close asChild>
            <button type="button" className="button button-quiet">
              Close
            </button>
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
