/**
 * Every public URL the platform hands out (Retell webhook and function URLs, Twilio status
 * callbacks, the URL a Twilio signature covers, the OpenAPI server) is built here from one base:
 * PUBLIC_BASE_URL, or `http://localhost:$PORT` when it is unset. Whatever prints such a URL also
 * prints `publicBaseNotice`, so an unset or local base never goes out silently.
 */
export interface PublicBase {
  /** No trailing slash. */
  readonly url: string;
  /** Whether PUBLIC_BASE_URL set it (else it is the local default, which nothing outside reaches). */
  readonly configured: boolean;
  /** Where the base came from, for notices: e.g. "PUBLIC_BASE_URL", "the running server (process 4242)". */
  readonly source: string;
}

const trimSlashes = (url: string) => url.replace(/\/+$/, '');

/** The base of a process's own configuration (config.ts reads the environment). */
export function publicBaseOf(config: { readonly publicBaseUrl: string; readonly publicBaseUrlConfigured: boolean; readonly port: number }): PublicBase {
  return {
    url: trimSlashes(config.publicBaseUrl),
    configured: config.publicBaseUrlConfigured,
    source: config.publicBaseUrlConfigured ? 'PUBLIC_BASE_URL' : `the default for PORT=${config.port} (PUBLIC_BASE_URL is not set)`,
  };
}

const segment = encodeURIComponent;

/** The URLs of one base. */
export function publicUrls(base: PublicBase | string) {
  const root = trimSlashes(typeof base === 'string' ? base : base.url);
  return {
    root,
    /** Retell: the agent's webhook URL and the phone number's inbound webhook URL. */
    retellWebhook: (clientId: string) => `${root}/api/webhooks/retell/${segment(clientId)}`,
    /** Retell: a custom function's URL. */
    retellFunction: (clientId: string, name: string) => `${root}/api/webhooks/retell/${segment(clientId)}/functions/${segment(name)}`,
    /** Twilio: where a message's delivery status is posted. */
    twilioStatusCallback: (clientId: string) => `${root}/api/webhooks/twilio/${segment(clientId)}/status`,
    /** Twilio: the messaging webhook of the client's number (STOP / START). */
    twilioInbound: (clientId: string) => `${root}/api/webhooks/twilio/${segment(clientId)}/inbound`,
    /** Zoho OAuth: where Zoho's consent screen sends the browser back (Zoho connect). */
    zohoOAuthCallback: () => `${root}/api/oauth/zoho/callback`,
    /** The public URL of a request this service received (what a Twilio signature covers). */
    ofRequest: (pathAndQuery: string) => `${root}${pathAndQuery}`,
  };
}

/** True for hosts that only this machine reaches. */
function isLocalHost(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || host.startsWith('127.') || host === '0.0.0.0';
  } catch {
    return false;
  }
}

/**
 * One line saying which base the printed URLs use and, when Retell or Twilio cannot reach it,
 * how to fix that; undefined for a configured public base.
 */
export function publicBaseNotice(base: PublicBase): string | undefined {
  const local = isLocalHost(base.url);
  if (base.configured && !local) return undefined;
  const how = 'set PUBLIC_BASE_URL to the HTTPS address Retell and Twilio reach this service at (e.g. PUBLIC_BASE_URL=https://xlnc.example.com) and restart the server';
  return local
    ? `Public URLs use ${base.url}, from ${base.source}: only this machine can reach it, Retell and Twilio cannot; ${how}.`
    : `Public URLs use ${base.url}, from ${base.source}.`;
}
