CREATE TABLE "call_events" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"client_id" text NOT NULL,
	"call_id" text NOT NULL,
	"event" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "call_events_client_id_id_pk" PRIMARY KEY("client_id","id")
);
--> statement-breakpoint
CREATE TABLE "calls" (
	"client_id" text NOT NULL,
	"call_id" text NOT NULL,
	"agent_id" text,
	"call_type" text,
	"direction" text,
	"from_number" text,
	"to_number" text,
	"customer_id" uuid,
	"status" text,
	"lifecycle_rank" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"duration_ms" bigint,
	"disconnection_reason" text,
	"transcript" text,
	"transcript_object" jsonb,
	"recording_url" text,
	"public_log_url" text,
	"analysis" jsonb,
	"summary" text,
	"sentiment" text,
	"successful" boolean,
	"metadata" jsonb,
	"dynamic_variables" jsonb,
	"cost" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "calls_client_id_call_id_pk" PRIMARY KEY("client_id","call_id")
);
--> statement-breakpoint
CREATE TABLE "clients" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"source" text NOT NULL,
	"config_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"client_id" text NOT NULL,
	"phone" text NOT NULL,
	"name" text,
	"email" text,
	"opted_out_at" timestamp with time zone,
	"last_call_at" timestamp with time zone,
	"call_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_client_id_id_pk" PRIMARY KEY("client_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "call_events_client_dedupe_uq" ON "call_events" USING btree ("client_id","dedupe_key");--> statement-breakpoint
CREATE INDEX "call_events_client_call_idx" ON "call_events" USING btree ("client_id","call_id","received_at");--> statement-breakpoint
CREATE INDEX "calls_client_started_idx" ON "calls" USING btree ("client_id","started_at");--> statement-breakpoint
CREATE INDEX "calls_client_created_idx" ON "calls" USING btree ("client_id","created_at");--> statement-breakpoint
CREATE INDEX "calls_client_from_idx" ON "calls" USING btree ("client_id","from_number");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_client_phone_uq" ON "customers" USING btree ("client_id","phone");