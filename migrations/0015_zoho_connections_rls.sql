-- Custom SQL migration: row-level security for zoho_connections (0014). Only the platform reads or writes it
-- (no grant to xlnc_app); the tenant policy keeps the rule that every client_id table has one.
ALTER TABLE zoho_connections ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE zoho_connections FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON zoho_connections TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON zoho_connections TO CURRENT_USER USING (true) WITH CHECK (true);
