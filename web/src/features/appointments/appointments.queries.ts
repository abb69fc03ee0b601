import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type QueryOf, type ResponseOf } from '../../lib/api.ts';

export type Appointment = ResponseOf<'/api/clients/{clientId}/appointments'>['data'][number];
type AppointmentQuery = QueryOf<'/api/clients/{clientId}/appointments'>;

export const appointmentQueries = {
  list: (clientId: string, query: AppointmentQuery) =>
    queryOptions({
      queryKey: ['clients', clientId, 'appointments', query] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/appointments', { path: { clientId }, query, signal }),
      placeholderData: keepPreviousData,
    }),
  /** A day's free slots (under the appointments key, so a change refreshes it too). */
  freeSlots: (clientId: string, date: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'appointments', 'free-slots', date] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/appointments/free-slots', { path: { clientId }, query: { date }, signal }),
    }),
};
