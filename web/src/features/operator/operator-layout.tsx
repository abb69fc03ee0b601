import { Link, Outlet } from '@tanstack/react-router';
import { SectionNav, sectionLinkProps } from '../shell/app-shell.tsx';

const SECTIONS = [
  { to: '/operator', label: 'Clients', exact: true },
  { to: '/operator/alerts', label: 'Alerts', exact: false },
  { to: '/operator/users', label: 'Users', exact: false },
  { to: '/operator/audit', label: 'Audit log', exact: false },
] as const;

export function OperatorLayout() {
  return (
    <>
      <div className="context-bar">
        <div className="context-inner">
          <div className="context-title">
            <span className="client-name">Operator console</span>
          </div>
        </div>
        <SectionNav label="Operator sections">
          {SECTIONS.map((section) => (
            <li key={section.to}>
              <Link to={section.to} {...sectionLinkProps(section.exact)}>
                {section.label}
              </Link>
            </li>
          ))}
        </SectionNav>
      </div>
      <main className="page" id="main">
        <Outlet />
      </main>
    </>
  );
}
