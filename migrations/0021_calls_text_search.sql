-- Custom SQL migration: the calls of the current client that a text search matches, through the
-- GIN index calls_search_idx.
-- As the tenant role (xlnc_app, row-level security) PostgreSQL never uses that index: a condition
-- becomes an index bound under row-level security only when it is leakproof, and the text-search
-- match (ts_match_vq) is not, so a rare word was a filter over every call of the client (100,000
-- in bench:api, 0.5-1.2 s). This function runs as its owner, the tables' owner, where the match is
-- an index bound; it returns only calls of the client in app.client_id, the very setting the
-- policies read (no setting: no rows), so a tenant learns nothing it could not read already; and
-- the caller's query reads the calls it names through its own row-level security again.
-- EXECUTE ... USING plans with the client and the query's words known (a rare word: the GIN
-- index; a word in most calls: the client's own rows).
CREATE FUNCTION calls_search_matches(query tsquery) RETURNS TABLE (call_id text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  ROWS 50
AS $$
BEGIN
  RETURN QUERY EXECUTE
    'SELECT c.call_id FROM public.calls c WHERE c.client_id = $1 AND c.search_document @@ $2'
    USING current_setting('app.client_id', true), query;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION calls_search_matches(tsquery) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION calls_search_matches(tsquery) TO xlnc_app;
