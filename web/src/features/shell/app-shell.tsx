/** The frame of every signed-in page: brand, the user menu (Radix), a skip link and the page. */
import { useQuery } from '@tanstack/react-query';
import { Link, Outlet } from '@tanstack/react-router';
import { DropdownMenu } from 'radix-ui';
import { signOut } from '../../lib/session.ts';
import { authQueries } from '../auth/auth.queries.ts';
import { BrandMark, useDocumentBrand } from '../branding/brand-mark.tsx';
import { brandingQueries } from '../branding/branding.queries.ts';
import { PLATFORM_BRAND_MARK } from '../branding/signed-out-brand.tsx';
import { ROLE_LABELS } from '../operator/operator.search.ts';

export function AppShell() {
  const me = useQuery(authQueries.me());
  const user = me.data;
  // A client's users see their client's brand; the operator console stays the platform's.
  const clientId = user?.client_id ?? null;
  const brand = useQuery({ ...brandingQueries.client(clientId ?? ''), enabled: clientId !== null });
  useDocumentBrand(clientId !== null ? brand.data : undefined);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          {clientId !== null && brand.isPending ? <span className="brand-pending" aria-label="Home" /> : <BrandMark brand={(clientId !== null ? brand.data : undefined) ?? PLATFORM_BRAND_MARK} />}
        </Link>
        {user ? (
          <DropdownMenu.Root>
            <DropdownMenu.Trigger className="user-button">
              <span className="visually-hidden">Account menu for </span>
              <span className="avatar" aria-hidden="true">
                {user.email.charAt(0).toUpperCase()}
              </span>
              <span className="user-email">{user.email}</span>
              <span aria-hidden="true">▾</span>
            </DropdownMenu.Trigger>
            <DropdownMenu.Portal>
              <DropdownMenu.Content className="menu" align="end" sideOffset={6}>
                <DropdownMenu.Label className="menu-label">
                  {user.email}
                  <br />
                  <span className="muted small">{ROLE_LABELS[user.role]}</span>
                </DropdownMenu.Label>
                <DropdownMenu.Separator className="menu-separator" />
                <DropdownMenu.Item className="menu-item" asChild>
                  <Link to="/account">Your account</Link>
                </DropdownMenu.Item>
                <DropdownMenu.Item className="menu-item" onSelect={() => void signOut()}>
                  Sign out
                </DropdownMenu.Item>
              </DropdownMenu.Content>
            </DropdownMenu.Portal>
          </DropdownMenu.Root>
        ) : null}
      </header>
      <Outlet />
    </div>
  );
}

/** How a section link shows that its page is open (for screen readers too). */
export const sectionLinkProps = (exact: boolean) =>
  ({ activeOptions: { exact, includeSearch: false }, activeProps: { 'aria-current': 'page', className: 'active' } }) as const;

/** A row of section links that scrolls sideways on a phone. */
export function SectionNav({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <nav className="section-nav" aria-label={label}>
      <ul>{children}</ul>
    </nav>
  );
}
