-- Custom SQL migration: the analytics rollups of 0018 kept in step with every write, by triggers in
-- the writing transaction, and filled from the rows already stored.
--
-- Idempotent by construction: a trigger adds what a row now contributes and takes back what it
-- contributed before (calls: analytics_call_entries remembers it), so a duplicate webhook or a
-- retried job that changes no row changes no figure. The outcome rule below is
-- src/analytics/call-outcome.ts's, in SQL; analytics.reference.test.ts holds the two equal.
ALTER TABLE analytics_call_entries ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE analytics_call_entries FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON analytics_call_entries TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON analytics_call_entries TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE analytics_rollups ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE analytics_rollups FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON analytics_rollups TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON analytics_rollups TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE analytics_message_rollups ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE analytics_message_rollups FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON analytics_message_rollups TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON analytics_message_rollups TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE analytics_function_rollups ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE analytics_function_rollups FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON analytics_function_rollups TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON analytics_function_rollups TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON analytics_call_entries, analytics_rollups, analytics_message_rollups, analytics_function_rollups TO xlnc_app;
--> statement-breakpoint
-- The UTC quarter-hour holding an instant (every zone's offset is a whole number of quarter-hours).
CREATE FUNCTION analytics_slice(at timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT date_bin('15 minutes', at, timestamptz '2000-01-01 00:00:00+00')
$$;
--> statement-breakpoint
-- A call's outcome code (callOutcomes' index: 0 booked, 1 message, 2 voicemail, 3 no_answer, 4 other).
CREATE FUNCTION analytics_call_outcome(p_client text, p_call text, p_status text, p_reason text, p_analysis jsonb)
RETURNS smallint LANGUAGE sql STABLE AS $$
  SELECT (CASE
    WHEN EXISTS (SELECT 1 FROM appointments a WHERE a.client_id = p_client AND a.call_id = p_call) THEN 0
    WHEN EXISTS (SELECT 1 FROM messages m WHERE m.client_id = p_client AND m.call_id = p_call AND m.kind = 'message_taken')
      OR EXISTS (SELECT 1 FROM function_calls f WHERE f.client_id = p_client AND f.call_id = p_call AND f.name = 'take_message' AND f.outcome = 'ok') THEN 1
    WHEN p_reason = 'voicemail_reached' OR (p_analysis ->> 'in_voicemail') = 'true' THEN 2
    WHEN p_status = 'not_connected' OR p_reason IN ('dial_no_answer', 'dial_busy', 'dial_failed', 'user_declined', 'invalid_destination',
      'registered_call_timeout', 'error_user_not_joined', 'ivr_reached', 'marked_as_spam') THEN 3
    ELSE 4 END)::smallint
$$;
--> statement-breakpoint
-- 1 positive, 2 negative, 3 neutral, 0 anything else (as lower(sentiment) reads).
CREATE FUNCTION analytics_sentiment_code(p_sentiment text) RETURNS smallint LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE lower(p_sentiment) WHEN 'positive' THEN 1 WHEN 'negative' THEN 2 WHEN 'neutral' THEN 3 ELSE 0 END)::smallint
$$;
--> statement-breakpoint
-- Adds (p_sign 1) or takes back (p_sign -1) one call's contribution to its slice.
CREATE FUNCTION analytics_add_call(p_client text, p_slice timestamptz, p_outcome smallint, p_sentiment smallint, p_duration bigint, p_sign int)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO analytics_rollups AS r (client_id, slice, calls, connected, total_duration_ms, with_duration, booked, message, voicemail, no_answer, positive, negative, neutral)
  VALUES (p_client, p_slice, p_sign,
    p_sign * (p_duration > 0 AND p_outcome NOT IN (2, 3))::int, p_sign * p_duration, p_sign * (p_duration > 0)::int,
    p_sign * (p_outcome = 0)::int, p_sign * (p_outcome = 1)::int, p_sign * (p_outcome = 2)::int, p_sign * (p_outcome = 3)::int,
    p_sign * (p_sentiment = 1)::int, p_sign * (p_sentiment = 2)::int, p_sign * (p_sentiment = 3)::int)
  ON CONFLICT (client_id, slice) DO UPDATE SET
    calls = r.calls + excluded.calls, connected = r.connected + excluded.connected,
    total_duration_ms = r.total_duration_ms + excluded.total_duration_ms, with_duration = r.with_duration + excluded.with_duration,
    booked = r.booked + excluded.booked, message = r.message + excluded.message, voicemail = r.voicemail + excluded.voicemail,
    no_answer = r.no_answer + excluded.no_answer, positive = r.positive + excluded.positive,
    negative = r.negative + excluded.negative, neutral = r.neutral + excluded.neutral
$$;
--> statement-breakpoint
-- Brings one call's contribution up to date with its row and its outcome evidence. Refreshes of
-- one call take turns (a transaction-scoped advisory lock, which also covers a call row not yet
-- visible): the next reads, in a new snapshot, what the previous one committed.
CREATE FUNCTION analytics_refresh_call(p_client text, p_call text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  old_entry analytics_call_entries%ROWTYPE;
  new_entry analytics_call_entries%ROWTYPE;
  had_old boolean;
  has_new boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('analytics_call:' || p_client || ':' || p_call, 0));
  SELECT * INTO old_entry FROM analytics_call_entries e WHERE e.client_id = p_client AND e.call_id = p_call;
  had_old := FOUND;
  SELECT c.client_id, c.call_id, analytics_slice(coalesce(c.started_at, c.created_at)),
         analytics_call_outcome(c.client_id, c.call_id, c.status, c.disconnection_reason, c.analysis),
         analytics_sentiment_code(c.sentiment), coalesce(c.duration_ms, 0)
    INTO new_entry FROM calls c WHERE c.client_id = p_client AND c.call_id = p_call;
  has_new := FOUND;
  IF had_old AND has_new AND old_entry.slice = new_entry.slice AND old_entry.outcome = new_entry.outcome
     AND old_entry.sentiment = new_entry.sentiment AND old_entry.duration_ms = new_entry.duration_ms THEN
    RETURN;
  END IF;
  IF had_old THEN
    PERFORM analytics_add_call(p_client, old_entry.slice, old_entry.outcome, old_entry.sentiment, old_entry.duration_ms, -1);
  END IF;
  IF has_new THEN
    PERFORM analytics_add_call(p_client, new_entry.slice, new_entry.outcome, new_entry.sentiment, new_entry.duration_ms, 1);
    INSERT INTO analytics_call_entries (client_id, call_id, slice, outcome, sentiment, duration_ms)
    VALUES (p_client, p_call, new_entry.slice, new_entry.outcome, new_entry.sentiment, new_entry.duration_ms)
    ON CONFLICT (client_id, call_id) DO UPDATE SET
      slice = excluded.slice, outcome = excluded.outcome, sentiment = excluded.sentiment, duration_ms = excluded.duration_ms;
  ELSIF had_old THEN
    DELETE FROM analytics_call_entries e WHERE e.client_id = p_client AND e.call_id = p_call;
  END IF;
END
$$;
--> statement-breakpoint
CREATE FUNCTION analytics_calls_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM analytics_refresh_call(OLD.client_id, OLD.call_id);
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR OLD.client_id <> NEW.client_id OR OLD.call_id <> NEW.call_id) THEN
    PERFORM analytics_refresh_call(NEW.client_id, NEW.call_id);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER analytics_calls_insert_delete AFTER INSERT OR DELETE ON calls
  FOR EACH ROW EXECUTE FUNCTION analytics_calls_changed();
--> statement-breakpoint
CREATE TRIGGER analytics_calls_update AFTER UPDATE ON calls FOR EACH ROW
  WHEN (OLD.started_at IS DISTINCT FROM NEW.started_at OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms OR OLD.sentiment IS DISTINCT FROM NEW.sentiment
    OR OLD.status IS DISTINCT FROM NEW.status OR OLD.disconnection_reason IS DISTINCT FROM NEW.disconnection_reason
    OR (OLD.analysis ->> 'in_voicemail') IS DISTINCT FROM (NEW.analysis ->> 'in_voicemail')
    OR OLD.client_id <> NEW.client_id OR OLD.call_id <> NEW.call_id)
  EXECUTE FUNCTION analytics_calls_changed();
--> statement-breakpoint
CREATE FUNCTION analytics_add_booking(p_client text, p_slice timestamptz, p_sign int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO analytics_rollups AS r (client_id, slice, appointments_booked) VALUES (p_client, p_slice, p_sign)
  ON CONFLICT (client_id, slice) DO UPDATE SET appointments_booked = r.appointments_booked + excluded.appointments_booked
$$;
--> statement-breakpoint
-- Bookings count by creation while booked (a cancellation takes one back); any appointment
-- carrying a call's id makes that call's outcome booked.
CREATE FUNCTION analytics_appointments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = 'booked' THEN
    PERFORM analytics_add_booking(OLD.client_id, analytics_slice(OLD.created_at), -1);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.status = 'booked' THEN
    PERFORM analytics_add_booking(NEW.client_id, analytics_slice(NEW.created_at), 1);
  END IF;
  IF TG_OP <> 'INSERT' AND OLD.call_id IS NOT NULL
     AND (TG_OP = 'DELETE' OR OLD.client_id <> NEW.client_id OR OLD.call_id IS DISTINCT FROM NEW.call_id) THEN
    PERFORM analytics_refresh_call(OLD.client_id, OLD.call_id);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.call_id IS NOT NULL
     AND (TG_OP = 'INSERT' OR OLD.client_id <> NEW.client_id OR OLD.call_id IS DISTINCT FROM NEW.call_id) THEN
    PERFORM analytics_refresh_call(NEW.client_id, NEW.call_id);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER analytics_appointments_insert_delete AFTER INSERT OR DELETE ON appointments
  FOR EACH ROW EXECUTE FUNCTION analytics_appointments_changed();
--> statement-breakpoint
CREATE TRIGGER analytics_appointments_update AFTER UPDATE ON appointments FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.call_id IS DISTINCT FROM NEW.call_id OR OLD.client_id <> NEW.client_id)
  EXECUTE FUNCTION analytics_appointments_changed();
--> statement-breakpoint
CREATE FUNCTION analytics_add_message(p_client text, p_slice timestamptz, p_channel text, p_status text, p_sign int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO analytics_message_rollups AS r (client_id, slice, channel, status, n) VALUES (p_client, p_slice, p_channel, p_status, p_sign)
  ON CONFLICT (client_id, slice, channel, status) DO UPDATE SET n = r.n + excluded.n
$$;
--> statement-breakpoint
-- Messages count by creation under their current status (a delivery update moves one from
-- `sent` to `delivered`); a message_taken message carrying a call's id makes its outcome message.
CREATE FUNCTION analytics_messages_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM analytics_add_message(OLD.client_id, analytics_slice(OLD.created_at), OLD.channel, OLD.status, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM analytics_add_message(NEW.client_id, analytics_slice(NEW.created_at), NEW.channel, NEW.status, 1);
  END IF;
  IF TG_OP <> 'INSERT' AND OLD.call_id IS NOT NULL AND OLD.kind = 'message_taken'
     AND (TG_OP = 'DELETE' OR OLD.client_id <> NEW.client_id OR OLD.call_id IS DISTINCT FROM NEW.call_id OR NEW.kind <> 'message_taken') THEN
    PERFORM analytics_refresh_call(OLD.client_id, OLD.call_id);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.call_id IS NOT NULL AND NEW.kind = 'message_taken'
     AND (TG_OP = 'INSERT' OR OLD.client_id <> NEW.client_id OR OLD.call_id IS DISTINCT FROM NEW.call_id OR OLD.kind <> 'message_taken') THEN
    PERFORM analytics_refresh_call(NEW.client_id, NEW.call_id);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER analytics_messages_insert_delete AFTER INSERT OR DELETE ON messages
  FOR EACH ROW EXECUTE FUNCTION analytics_messages_changed();
--> statement-breakpoint
CREATE TRIGGER analytics_messages_update AFTER UPDATE ON messages FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.call_id IS DISTINCT FROM NEW.call_id OR OLD.client_id <> NEW.client_id)
  EXECUTE FUNCTION analytics_messages_changed();
--> statement-breakpoint
CREATE FUNCTION analytics_add_function_call(p_client text, p_slice timestamptz, p_name text, p_outcome text, p_sign int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO analytics_function_rollups AS r (client_id, slice, name, total, failed)
  VALUES (p_client, p_slice, p_name, p_sign, p_sign * (p_outcome <> 'ok')::int)
  ON CONFLICT (client_id, slice, name) DO UPDATE SET total = r.total + excluded.total, failed = r.failed + excluded.failed
$$;
--> statement-breakpoint
-- Function calls count by creation; a successful take_message carrying a call's id makes its outcome message.
CREATE FUNCTION analytics_function_calls_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM analytics_add_function_call(OLD.client_id, analytics_slice(OLD.created_at), OLD.name, OLD.outcome, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM analytics_add_function_call(NEW.client_id, analytics_slice(NEW.created_at), NEW.name, NEW.outcome, 1);
  END IF;
  IF TG_OP <> 'INSERT' AND OLD.call_id IS NOT NULL AND OLD.name = 'take_message' AND OLD.outcome = 'ok' THEN
    PERFORM analytics_refresh_call(OLD.client_id, OLD.call_id);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.call_id IS NOT NULL AND NEW.name = 'take_message' AND NEW.outcome = 'ok'
     AND (TG_OP = 'INSERT' OR OLD.client_id <> NEW.client_id OR OLD.call_id IS DISTINCT FROM NEW.call_id) THEN
    PERFORM analytics_refresh_call(NEW.client_id, NEW.call_id);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER analytics_function_calls_insert_delete AFTER INSERT OR DELETE ON function_calls
  FOR EACH ROW EXECUTE FUNCTION analytics_function_calls_changed();
--> statement-breakpoint
CREATE TRIGGER analytics_function_calls_update AFTER UPDATE ON function_calls FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.outcome IS DISTINCT FROM NEW.outcome OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.call_id IS DISTINCT FROM NEW.call_id OR OLD.client_id <> NEW.client_id)
  EXECUTE FUNCTION analytics_function_calls_changed();
--> statement-breakpoint
-- Recomputes the rollups of one client (or of all, p_client NULL) from the stored rows, set-based.
-- Writers of the four source tables wait meanwhile, so no change falls between delete and insert.
CREATE FUNCTION analytics_rebuild(p_client text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE calls, appointments, messages, function_calls IN SHARE MODE;
  DELETE FROM analytics_call_entries WHERE p_client IS NULL OR client_id = p_client;
  DELETE FROM analytics_rollups WHERE p_client IS NULL OR client_id = p_client;
  DELETE FROM analytics_message_rollups WHERE p_client IS NULL OR client_id = p_client;
  DELETE FROM analytics_function_rollups WHERE p_client IS NULL OR client_id = p_client;
  INSERT INTO analytics_call_entries (client_id, call_id, slice, outcome, sentiment, duration_ms)
  SELECT c.client_id, c.call_id, analytics_slice(coalesce(c.started_at, c.created_at)),
         analytics_call_outcome(c.client_id, c.call_id, c.status, c.disconnection_reason, c.analysis),
         analytics_sentiment_code(c.sentiment), coalesce(c.duration_ms, 0)
    FROM calls c WHERE p_client IS NULL OR c.client_id = p_client;
  INSERT INTO analytics_rollups (client_id, slice, calls, connected, total_duration_ms, with_duration, booked, message, voicemail, no_answer, positive, negative, neutral)
  SELECT client_id, slice, count(*), count(*) FILTER (WHERE duration_ms > 0 AND outcome NOT IN (2, 3)), sum(duration_ms),
         count(*) FILTER (WHERE duration_ms > 0), count(*) FILTER (WHERE outcome = 0), count(*) FILTER (WHERE outcome = 1),
         count(*) FILTER (WHERE outcome = 2), count(*) FILTER (WHERE outcome = 3), count(*) FILTER (WHERE sentiment = 1),
         count(*) FILTER (WHERE sentiment = 2), count(*) FILTER (WHERE sentiment = 3)
    FROM analytics_call_entries WHERE p_client IS NULL OR client_id = p_client GROUP BY 1, 2;
  INSERT INTO analytics_rollups AS r (client_id, slice, appointments_booked)
  SELECT client_id, analytics_slice(created_at), count(*) FROM appointments
   WHERE status = 'booked' AND (p_client IS NULL OR client_id = p_client) GROUP BY 1, 2
  ON CONFLICT (client_id, slice) DO UPDATE SET appointments_booked = excluded.appointments_booked;
  INSERT INTO analytics_message_rollups (client_id, slice, channel, status, n)
  SELECT client_id, analytics_slice(created_at), channel, status, count(*) FROM messages
   WHERE p_client IS NULL OR client_id = p_client GROUP BY 1, 2, 3, 4;
  INSERT INTO analytics_function_rollups (client_id, slice, name, total, failed)
  SELECT client_id, analytics_slice(created_at), name, count(*), count(*) FILTER (WHERE outcome <> 'ok') FROM function_calls
   WHERE p_client IS NULL OR client_id = p_client GROUP BY 1, 2, 3;
END
$$;
--> statement-breakpoint
SELECT analytics_rebuild(NULL);
