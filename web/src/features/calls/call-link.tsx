import { Link } from '@tanstack/react-router';

/** "View call" for rows that belong to a call (appointments, messages); a dash when none does. */
export function CallLink({ clientId, callId }: { clientId: string; callId: string | null }) {
  return callId ? (
    <Link to="/c/$clientId/calls/$callId" params={{ clientId, callId }} className="nowrap">
      View call
    </Link>
  ) : (
    <span className="muted">–</span>
  );
}
