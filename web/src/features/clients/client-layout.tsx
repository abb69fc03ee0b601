/** One client's frame: its name, test/live badge and the owner's sections. The operator gets a way back. */
import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link, Outlet } from '@tanstack/react-router';
import { isApiError } from '../../lib/api.ts';
import { Badge } from '../../ui/badge.tsx';
import { ErrorState } from '../../ui/states.tsx';
import { authQueries } from '../auth/auth.queries.ts';
import { brandStyle } from '../branding/brand-theme.ts';
import { brandingQueries } from '../branding/branding.queries.ts';
import { environmentOf, settingsQueries } from '../settings/settings.queries.ts';
import { SectionNav, sectionLinkProps } from '../shell/app-shell.tsx';

const route = getRouteApi('/app/c/$clientId');

const SECTIONS = [
  { to: '/c/$clientId', label: 'Overview', exact: true },
  { to: '/c/$clientId/live', label: 'Live now', exact: false },
  { to: '/c/$clientId/calls', label: 'Calls', exact: false },
  { to: '/c/$clientId/appointments', label: 'Appointments', exact: false },
  { to: '/c/$clientId/messages', label: 'Messages', exact: false },
  { to: '/c/$clientId/customers', label: 'Customers', exact: false },
  { to: '/c/$clientId/webhooks', label: 'Webhooks', exact: false },
  { to: '/c/$clientId/settings', label: 'Settings', exact: false },
  { to: '/c/$clientId/users', label: 'Users', exact: false, admins: true },
] as const;

export function ClientLayout() {
  const { clientId } = route.useParams();
  const me = useQuery(authQueries.me());
  const settings = useQuery(settingsQueries.detail(clientId));
  const environment = environmentOf(settings.data);
  const isOperator = me.data?.role === 'platform_admin';
  // The name its people know it by: branding's display name, else the client's name (an invalid
  // configuration has neither, and its brand is the platform's). The shell asks for the same brand.
  const brand = useQuery(brandingQueries.client(clientId));
  // The operator sees the client as its users do, inside the platform's console (their own pages wear it on the whole document).
  const scopedBrand = isOperator && brand.data !== undefined ? brand.data : undefined;

  return (
    <div className="client-frame" style={scopedBrand !== undefined ? brandStyle(scopedBrand) : undefined}>
      <div className="context-bar">
        <div className="context-inner">
          {isOperator ? (
            <nav aria-label="Breadcrumb" className="breadcrumb">
              <Link to="/operator">Operator console</Link> <span aria-hidden="true">/</span>
            </nav>
          ) : null}
          <div className="context-title">
            {scopedBrand?.logo_url != null ? <img className="brand-logo" src={scopedBrand.logo_url} alt="" /> : null}
            <span className="client-name">{settings.data?.status === 'invalid' ? settings.data.name : (brand.data?.display_name ?? settings.data?.name ?? clientId)}</span>
            {environment === 'test' ? (
              <Badge tone="info" title="Test client: messages are rendered and stored, never sent">
                Test mode
              </Badge>
            ) : environment === 'live' ? (
              <Badge tone="good">Live</Badge>
            ) : null}
            {settings.data && settings.data.status !== 'active' ? (
              <Badge tone={settings.data.status === 'invalid' ? 'bad' : 'warn'}>{settings.data.status === 'invalid' ? 'Configuration invalid' : 'Disabled'}</Badge>
            ) : null}
          </div>
        </div>
        <SectionNav label="Client sections">
          {SECTIONS.filter((section) => !('admins' in section) || (me.data !== undefined && me.data.role !== 'client_viewer')).map((section) => (
            <li key={section.to}>
              <Link
                to={section.to}
                params={{ clientId }}
                {...sectionLinkProps(section.exact)}
              >
                {section.label}
              </Link>
            </li>
          ))}
        </SectionNav>
      </div>
      <main className="page" id="main">
        {isApiError(settings.error, 404) ? <ErrorState error={settings.error} /> : <Outlet />}
      </main>
    </div>
  );
}
