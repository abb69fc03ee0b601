/**
 * Every page and its URL. Filters and pages live in the URL (validated here), so every view is a
 * shareable link. Pages load on demand: a first visit downloads the shell and the sign-in page only.
 */
import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, lazyRouteComponent, notFound, Outlet, redirect } from '@tanstack/react-router';
import { isApiError } from './lib/api.ts';
import { compact, oneOf, text } from './lib/search.ts';
import { hasSession, setupNeeded, type SessionEndReason } from './lib/session.ts';
import { authQueries } from './features/auth/auth.queries.ts';
import { LoginPage } from './features/auth/login-page.tsx';
import { parseAppointmentsSearch } from './features/appointments/appointments.search.ts';
import { parseCallsSearch } from './features/calls/calls.search.ts';
import { parseCustomersSearch } from './features/customers/customers.search.ts';
import { parseMessagesSearch } from './features/messages/messages.search.ts';
import { parseAlertsSearch, parseAuditSearch, parseClientsSearch, parseUsersSearch } from './features/operator/operator.search.ts';
import { parseOverviewSearch } from './features/overview/overview.search.ts';
import { parseDeliveriesSearch } from './features/webhooks/webhooks.search.ts';
import { AppShell } from './features/shell/app-shell.tsx';
import { NotFoundPage, RouteError } from './features/shell/route-states.tsx';

export interface RouterContext {
  queryClient: QueryClient;
}

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFoundPage,
  errorComponent: RouteError,
});

const LOGIN_REASONS = ['expired', 'signed_out', 'password_changed', 'password_reset', 'signed_out_everywhere'] as const;

interface LoginSearch {
  reason?: SessionEndReason | (typeof LOGIN_REASONS)[number] | undefined;
  /** Where to go after signing in (a path on this site). */
  redirect?: string | undefined;
}

const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/login',
  validateSearch: (raw: Record<string, unknown>): LoginSearch =>
    compact({ reason: oneOf(raw.reason, LOGIN_REASONS), redirect: text(raw.redirect, 2000) }),
  beforeLoad: async () => {
    // A fresh install has nobody to sign in: its first visitor sets up the platform admin.
    if (await setupNeeded()) throw redirect({ to: '/setup' });
  },
  component: function Login() {
    const search = loginRoute.useSearch();
    return <LoginPage reason={search.reason} redirectTo={search.redirect} />;
  },
});

/** First run: create the platform admin with the setup token from the server log. */
const setupRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/setup',
  component: lazyRouteComponent(() => import('./features/auth/setup-page.tsx'), 'SetupPage'),
});

/** Opened from an invitation email (the token after #). */
const acceptInviteRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/accept-invite',
  component: lazyRouteComponent(() => import('./features/auth/accept-invite-page.tsx'), 'AcceptInvitePage'),
});

/** Asks for a reset email, or (opened from one, the token after #) sets the new password. */
const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
  component: lazyRouteComponent(() => import('./features/auth/reset-password-page.tsx'), 'ResetPasswordPage'),
});

/** Every page below needs a session; without one (or when it has ended) → sign in, then back here. */
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'app',
  beforeLoad: async ({ context, location }) => {
    const toLogin = () => redirect({ to: '/login', search: { redirect: location.href } });
    if (!hasSession()) throw toLogin();
    try {
      return { user: await context.queryClient.ensureQueryData(authQueries.me()) };
    } catch (error) {
      if (isApiError(error, 401)) throw toLogin();
      throw error;
    }
  },
  component: AppShell,
});

const homeRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/',
  beforeLoad: ({ context }) => {
    const { user } = context;
    if (user.role === 'platform_admin') throw redirect({ to: '/operator' });
    if (user.client_id !== null) throw redirect({ to: '/c/$clientId', params: { clientId: user.client_id } });
  },
  component: NotFoundPage,
});

const accountRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/account',
  component: lazyRouteComponent(() => import('./features/account/account-page.tsx'), 'AccountPage'),
});

const operatorRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/operator',
  beforeLoad: ({ context }) => {
    // A client user sees no operator page, not even that one exists.
    if (context.user.role !== 'platform_admin') throw notFound();
  },
  component: lazyRouteComponent(() => import('./features/operator/operator-layout.tsx'), 'OperatorLayout'),
});

const operatorClientsRoute = createRoute({
  getParentRoute: () => operatorRoute,
  path: '/',
  validateSearch: parseClientsSearch,
  component: lazyRouteComponent(() => import('./features/operator/clients-page.tsx'), 'ClientsPage'),
});

const operatorAlertsRoute = createRoute({
  getParentRoute: () => operatorRoute,
  path: '/alerts',
  validateSearch: parseAlertsSearch,
  component: lazyRouteComponent(() => import('./features/operator/alerts-route.tsx'), 'AlertsRoute'),
});

const operatorUsersRoute = createRoute({
  getParentRoute: () => operatorRoute,
  path: '/users',
  validateSearch: parseUsersSearch,
  component: lazyRouteComponent(() => import('./features/operator/users-page.tsx'), 'UsersPage'),
});

const operatorAuditRoute = createRoute({
  getParentRoute: () => operatorRoute,
  path: '/audit',
  validateSearch: parseAuditSearch,
  component: lazyRouteComponent(() => import('./features/operator/audit-page.tsx'), 'AuditPage'),
});

/** One client's pages: its own users, and the operator for any client. */
const clientRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/c/$clientId',
  beforeLoad: ({ context, params }) => {
    const { user } = context;
    if (user.role !== 'platform_admin' && user.client_id !== params.clientId) throw notFound();
  },
  component: lazyRouteComponent(() => import('./features/clients/client-layout.tsx'), 'ClientLayout'),
});

const overviewRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/',
  validateSearch: parseOverviewSearch,
  component: lazyRouteComponent(() => import('./features/overview/overview-page.tsx'), 'OverviewPage'),
});

const callsRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/calls',
  validateSearch: parseCallsSearch,
  component: lazyRouteComponent(() => import('./features/calls/calls-page.tsx'), 'CallsPage'),
});

const callRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/calls/$callId',
  component: lazyRouteComponent(() => import('./features/calls/call-detail-page.tsx'), 'CallDetailPage'),
});

const appointmentsRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/appointments',
  validateSearch: parseAppointmentsSearch,
  component: lazyRouteComponent(() => import('./features/appointments/appointments-page.tsx'), 'AppointmentsPage'),
});

const messagesRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/messages',
  validateSearch: parseMessagesSearch,
  component: lazyRouteComponent(() => import('./features/messages/messages-page.tsx'), 'MessagesPage'),
});

const customersRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/customers',
  validateSearch: parseCustomersSearch,
  component: lazyRouteComponent(() => import('./features/customers/customers-page.tsx'), 'CustomersPage'),
});

const customerRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/customers/$customerId',
  component: lazyRouteComponent(() => import('./features/customers/customer-detail-page.tsx'), 'CustomerDetailPage'),
});

const liveRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/live',
  component: lazyRouteComponent(() => import('./features/live/live-page.tsx'), 'LivePage'),
});

const settingsRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/settings',
  component: lazyRouteComponent(() => import('./features/settings/settings-page.tsx'), 'SettingsPage'),
});

const webhooksRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/webhooks',
  component: lazyRouteComponent(() => import('./features/webhooks/webhooks-page.tsx'), 'WebhooksPage'),
});

const webhookDeliveriesRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/webhooks/$subscriptionId',
  validateSearch: parseDeliveriesSearch,
  component: lazyRouteComponent(() => import('./features/webhooks/webhook-deliveries-page.tsx'), 'WebhookDeliveriesPage'),
});

const clientUsersRoute = createRoute({
  getParentRoute: () => clientRoute,
  path: '/users',
  beforeLoad: ({ context }) => {
    // Viewers read the client's data; its users are for its admins.
    if (context.user.role === 'client_viewer') throw notFound();
  },
  component: lazyRouteComponent(() => import('./features/users/client-users-page.tsx'), 'ClientUsersPage'),
});

const routeTree = rootRoute.addChildren([
  loginRoute,
  setupRoute,
  acceptInviteRoute,
  resetPasswordRoute,
  appRoute.addChildren([
    homeRoute,
    accountRoute,
    operatorRoute.addChildren([operatorClientsRoute, operatorAlertsRoute, operatorUsersRoute, operatorAuditRoute]),
    clientRoute.addChildren([overviewRoute, liveRoute, callsRoute, callRoute, appointmentsRoute, messagesRoute, customersRoute, customerRoute, settingsRoute, webhooksRoute, webhookDeliveriesRoute, clientUsersRoute]),
  ]),
]);

export function createAppRouter(queryClient: QueryClient) {
  return createRouter({
    routeTree,
    context: { queryClient },
    defaultPreload: 'intent',
    // Data freshness is TanStack Query's job; the router only loads code.
    defaultPreloadStaleTime: 0,
    scrollRestoration: true,
  });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
