CREATE TABLE "zoho_connections" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"data_center" text NOT NULL,
	"accounts_base_url" text NOT NULL,
	"oauth_client_id" text NOT NULL,
	"oauth_client_secret" text NOT NULL,
	"redirect_uri" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"refresh_token" text,
	"error" text,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "zoho_connections_status_ck" CHECK ("zoho_connections"."status" in ('pending', 'connected', 'failed'))
);
--> statement-breakpoint
CREATE INDEX "zoho_connections_client_idx" ON "zoho_connections" USING btree ("client_id","created_at");