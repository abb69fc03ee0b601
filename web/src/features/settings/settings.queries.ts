import { queryOptions } from '@tanstack/react-query';
import { api, type BodyOf, type ResponseOf } from '../../lib/api.ts';

export type ClientSettings = ResponseOf<'/api/clients/{clientId}/settings'>;
export type EditableSettings = ResponseOf<'/api/clients/{clientId}/settings/editable'>;
export type TemplatePreview = ResponseOf<'/api/clients/{clientId}/settings/preview', 'post'>;
export type TemplatesDraft = BodyOf<'/api/clients/{clientId}/settings/preview'>['templates'];

export const settingsQueries = {
  /** Name, status, timezone and masked configuration: the client layout and every page read it. */
  detail: (clientId: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'settings'] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/settings', { path: { clientId }, signal }),
      staleTime: 60_000,
    }),
  /** Whether this user may edit, where the settings live (file or database) and the version to send back. */
  editable: (clientId: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'settings', 'editable'] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/settings/editable', { path: { clientId }, signal }),
    }),
  /** A draft of the templates rendered by the server's sending code with sample call data. */
  preview: (clientId: string, templates: TemplatesDraft) =>
    queryOptions({
      queryKey: ['clients', clientId, 'settings', 'preview', templates] as const,
      queryFn: ({ signal }) => api.post('/api/clients/{clientId}/settings/preview', { templates }, { path: { clientId }, signal }),
      staleTime: Infinity,
      placeholderData: (previous) => previous,
    }),
};

/** The client's timezone (times and dates on its pages are local to it). */
export function timezoneOf(settings: ClientSettings | undefined): string {
  const zone = settings?.config?.timezone;
  return typeof zone === 'string' && zone !== '' ? zone : 'UTC';
}

export function environmentOf(settings: ClientSettings | undefined): 'test' | 'live' | null {
  const environment = settings?.config?.environment;
  return environment === 'test' || environment === 'live' ? environment : null;
}
