/**
 * One operator notice about one incident on one channel (platform email, platform Slack webhook,
 * the client's own Slack webhook): a job each, keyed on (incident, notice, channel) by
 * alerts.service.ts, so a notice is enqueued once and a retry repeats only the channel that failed.
 */
import { z } from 'zod';
import type { ClientRecord } from '../clients/client.schema.ts';
import { defineJob, type JobContext, type JobOutcome } from '../core/jobs.ts';
import { PermanentJobError } from '../platform/queue.ts';
import { findAlert, type AlertRow } from './alerts.repo.ts';
import { alertKindLabel } from './detectors.ts';
import { NoticeDeliveryError } from './operator-notifier.ts';

export const NOTICE_CHANNELS = ['email', 'slack', 'client_slack'] as const;
export type NoticeChannel = (typeof NOTICE_CHANNELS)[number];
export const ALERT_NOTICES = ['opened', 'reminder', 'resolved'] as const;
export type AlertNotice = (typeof ALERT_NOTICES)[number];

const payload = z.object({
  client_id: z.string().min(1),
  alert_id: z.uuid(),
  notice: z.enum(ALERT_NOTICES),
  /** The reminder's number (0 for opened and resolved): part of the job key. */
  n: z.number().int().min(0),
  channel: z.enum(NOTICE_CHANNELS),
});
export type AlertNoticePayload = z.infer<typeof payload>;

/** The notice's words: a subject line and a body, the same on every channel. */
export function noticeText(alert: AlertRow, clientName: string, notice: AlertNotice): { subject: string; text: string } {
  const label = alertKindLabel(alert.kind);
  const head =
    notice === 'resolved'
      ? `RESOLVED ${clientName} (${alert.clientId}): ${label}`
      : `${notice === 'reminder' ? 'REMINDER ' : ''}${alert.severity.toUpperCase()} ${clientName} (${alert.clientId}): ${label}`;
  const lines =
    notice === 'resolved'
      ? [`Opened ${alert.openedAt.toISOString()}, resolved ${alert.resolvedAt?.toISOString() ?? ''} by ${alert.resolvedBy === 'detector' ? 'the detector (the problem went away)' : 'an operator'}.`, `Was: ${alert.summary}`]
      : [`Seen: ${alert.summary}`, `Do: ${alert.action}`, `Open since ${alert.openedAt.toISOString()}; alert ${alert.id}.`];
  return { subject: `[XLNC] ${head}`, text: `${head}\n${lines.join('\n')}` };
}

/** What a notice job uses. */
export type AlertNoticeContext = Pick<JobContext, 'tenancy' | 'alerting'>;

async function sendNotice(client: ClientRecord, p: AlertNoticePayload, ctx: AlertNoticeContext): Promise<JobOutcome> {
  const alert = await ctx.tenancy.withTenant(client.id, (tx) => findAlert(tx, client.id, p.alert_id));
  if (!alert) return 'skipped';
  const { subject, text } = noticeText(alert, client.config?.name ?? client.id, p.notice);
  const notifier = ctx.alerting.notifier;
  try {
    switch (p.channel) {
      case 'email':
        return (await notifier.email(subject, text)) === 'sent' ? 'sent' : 'skipped';
      case 'slack':
        if (!notifier.platformSlackUrl) return 'skipped';
        await notifier.slack(notifier.platformSlackUrl, { text });
        return 'sent';
      case 'client_slack': {
        const url = client.config?.alerts.slack_webhook_url;
        if (!url) return 'skipped';
        await notifier.slack(url, { text });
        return 'sent';
      }
    }
  } catch (error) {
    if (error instanceof NoticeDeliveryError && !error.retryable) throw new PermanentJobError(`${p.channel} notice refused: ${error.message}`);
    throw error;
  }
}

export const alertNoticeJob = defineJob({
  name: 'alert.notice',
  payload,
  retryLimit: 8,
  retryDelaySeconds: 5,
  retryDelayMaxSeconds: 600,
  expireInSeconds: 60,
  handle: (client, p, ctx: AlertNoticeContext) => sendNotice(client, p, ctx),
  // An alert about an invalid configuration must reach the operator while it is invalid.
  handleUnservable: (client, p, ctx: AlertNoticeContext) => sendNotice(client, p, ctx),
});
