-- Custom SQL migration: tenant isolation in the database itself.
-- Tenant work runs as the non-owner role xlnc_app with app.client_id set for the transaction
-- (withTenant); platform work runs as the connecting role (withPlatform), which owns the tables.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xlnc_app') THEN
    CREATE ROLE xlnc_app NOLOGIN;
  END IF;
END
$$;
--> statement-breakpoint
GRANT xlnc_app TO CURRENT_USER;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO xlnc_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO xlnc_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO xlnc_app;
--> statement-breakpoint
ALTER TABLE clients ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE clients FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON clients TO xlnc_app
  USING (id = current_setting('app.client_id', true))
  WITH CHECK (id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON clients TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE calls FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON calls TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON calls TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE call_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE call_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON call_events TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON call_events TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON customers TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON customers TO CURRENT_USER USING (true) WITH CHECK (true);
