import { getRouteApi } from '@tanstack/react-router';
import { AlertsPage } from './alerts-page.tsx';

const route = getRouteApi('/app/operator/alerts');

export function AlertsRoute() {
  const search = route.useSearch();
  return <AlertsPage client={search.client} />;
}
