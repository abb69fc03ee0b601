/**
 * A client's white-label brand: the schema of its `branding` block, the colors the dashboard and
 * emails derive from it (always readable: WCAG AA contrast), and the public view a signed-out page
 * may see. The platform's own brand is the default wherever a client has none.
 */
import { z } from 'zod';
import { readableForeground, readableTextColor } from './brand-colors.ts';

export { contrastRatio, MIN_TEXT_CONTRAST, readableForeground, readableTextColor, relativeLuminance } from './brand-colors.ts';

/** The platform's own brand: the operator console, unknown hosts, clients without branding. */
export const PLATFORM_BRAND = { display_name: 'XLNC Perception', logo_url: null, primary_color: '#1d4ed8' } as const;

const hexColorPattern = /^#[0-9a-fA-F]{6}$/;
// RFC 1123 labels: letters, digits and inner hyphens, 1-63 each; at least two labels, 253 in all.
const hostnamePattern = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const LOGO_URL_MAX_LENGTH = 2048;

const logoUrl = z
  .url({ protocol: /^https$/, error: 'must be an https:// URL' })
  .max(LOGO_URL_MAX_LENGTH)
  .refine(
    (value) => {
      const url = URL.parse(value);
      return url !== null && url.username === '' && url.password === '';
    },
    { message: 'must not carry a user name or password' },
  )
  .describe('Logo shown in the header, sign-in pages and emails: an https:// URL (no credentials), ideally a square SVG or PNG.');

const hostname = z
  .string()
  .max(253)
  .transform((value) => value.toLowerCase())
  .refine((value) => hostnamePattern.test(value), {
    message: 'must be a host name like portal.example.com (no scheme, port or path)',
  })
  .describe('Host name of the client’s own portal (DNS pointed at this platform), e.g. portal.example.com; lowercased, no port or path. Unique across clients.');

export const brandingSchema = z
  .strictObject({
    display_name: z.string().trim().min(1).max(80).optional().describe('Name the portal and emails show; default: the client’s name.'),
    logo_url: logoUrl.optional(),
    primary_color: z
      .string()
      .regex(hexColorPattern, 'must be a color like #0f766e')
      .transform((value) => value.toLowerCase())
      .optional()
      .describe('Buttons, links and focus rings, as #rrggbb. Text on it is white or dark, whichever reads better; links use a darker shade where it is too light for text.'),
    custom_host: hostname.optional(),
  })
  .describe('White-label: how the client’s dashboard, sign-in pages and account emails look.');

export type Branding = z.output<typeof brandingSchema>;

/** What a signed-out page may learn about a brand: nothing beyond how it looks. */
export interface PublicBrand {
  display_name: string;
  logo_url: string | null;
  primary_color: string;
  /** Text on primary_color: white or dark, whichever contrasts more. */
  on_primary_color: string;
  /** primary_color, darkened until it reads as text on the page background (links, focus ring). */
  primary_text_color: string;
}

type BrandedConfig = { readonly name: string; readonly branding?: Readonly<Branding> | undefined };

/** The name a client's customers and staff see in its pages and messages: branding.display_name, else its name. */
export function displayNameOf(config: BrandedConfig): string {
  return config.branding?.display_name ?? config.name;
}

/**
 * Where a client's account links point: its custom host when it has one (with the public base's
 * scheme and port, so a local setup keeps working), else the platform's public base.
 */
export function portalBaseUrl(publicBaseUrl: string, config: BrandedConfig | null | undefined): string {
  const host = config?.branding?.custom_host;
  const base = URL.parse(publicBaseUrl);
  if (host === undefined || base === null) return publicBaseUrl.replace(/\/+$/, '');
  return `${base.protocol}//${host}${base.port === '' ? '' : `:${base.port}`}`;
}

/** The brand a client's pages and emails wear: its branding, else its name in the platform's colors. */
export function brandOf(config: BrandedConfig | null | undefined): PublicBrand {
  const color = config?.branding?.primary_color ?? PLATFORM_BRAND.primary_color;
  return {
    display_name: config == null ? PLATFORM_BRAND.display_name : displayNameOf(config),
    logo_url: config?.branding?.logo_url ?? null,
    primary_color: color,
    on_primary_color: readableForeground(color),
    primary_text_color: readableTextColor(color),
  };
}

/** The platform's own brand, derived like a client's. */
export const platformBrand = (): PublicBrand => brandOf({ name: PLATFORM_BRAND.display_name });
