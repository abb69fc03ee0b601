-- Custom SQL migration: row-level security for the tables of 0004.
-- users and audit_log carry a nullable client_id (null = platform admin / platform-wide action):
-- they are platform tables (withPlatform), and a tenant transaction sees only its own client's rows.
-- refresh_tokens and client_configs are platform-only: no tenant policy, so xlnc_app sees nothing.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE users FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON users TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON users TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON audit_log TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON audit_log TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_access ON refresh_tokens TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE client_configs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE client_configs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_access ON client_configs TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO xlnc_app;
