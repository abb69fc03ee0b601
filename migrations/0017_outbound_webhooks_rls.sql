-- Custom SQL migration: row-level security for the outbound webhook tables of 0016.
ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_subscriptions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON webhook_subscriptions TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON webhook_subscriptions TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON webhook_deliveries TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON webhook_deliveries TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
ALTER TABLE webhook_delivery_attempts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_delivery_attempts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON webhook_delivery_attempts TO xlnc_app
  USING (client_id = current_setting('app.client_id', true))
  WITH CHECK (client_id = current_setting('app.client_id', true));
--> statement-breakpoint
CREATE POLICY platform_access ON webhook_delivery_attempts TO CURRENT_USER USING (true) WITH CHECK (true);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_subscriptions, webhook_deliveries, webhook_delivery_attempts TO xlnc_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO xlnc_app;
