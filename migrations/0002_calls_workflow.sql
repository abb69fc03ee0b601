CREATE TABLE "appointments" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"client_id" text NOT NULL,
	"call_id" text,
	"customer_id" uuid,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"provider" text NOT NULL,
	"provider_event_id" text,
	"provider_etag" text,
	"customer_name" text,
	"customer_phone" text,
	"customer_email" text,
	"reason" text,
	"idempotency_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "appointments_client_id_id_pk" PRIMARY KEY("client_id","id")
);
--> statement-breakpoint
CREATE TABLE "function_calls" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"client_id" text NOT NULL,
	"call_id" text,
	"name" text NOT NULL,
	"args" jsonb,
	"outcome" text NOT NULL,
	"error_code" text,
	"latency_ms" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "function_calls_client_id_id_pk" PRIMARY KEY("client_id","id")
);
--> statement-breakpoint
CREATE TABLE "integration_status" (
	"client_id" text NOT NULL,
	"capability" text NOT NULL,
	"provider" text NOT NULL,
	"status" text NOT NULL,
	"detail" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "integration_status_client_id_capability_pk" PRIMARY KEY("client_id","capability")
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"client_id" text NOT NULL,
	"call_id" text,
	"customer_id" uuid,
	"channel" text NOT NULL,
	"kind" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"provider" text NOT NULL,
	"to_address" text NOT NULL,
	"from_address" text,
	"subject" text,
	"body" text NOT NULL,
	"html" text,
	"status" text NOT NULL,
	"provider_message_id" text,
	"error_code" text,
	"error_message" text,
	"segments" integer,
	"attempts" integer DEFAULT 0 NOT NULL,
	"send_after" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_client_id_id_pk" PRIMARY KEY("client_id","id")
);
--> statement-breakpoint
CREATE TABLE "workflow_runs" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"client_id" text NOT NULL,
	"call_id" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"detail" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflow_runs_client_id_id_pk" PRIMARY KEY("client_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "appointments_client_key_uq" ON "appointments" USING btree ("client_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "appointments_client_slot_booked_uq" ON "appointments" USING btree ("client_id","starts_at") WHERE status = 'booked';--> statement-breakpoint
CREATE INDEX "appointments_client_starts_idx" ON "appointments" USING btree ("client_id","starts_at");--> statement-breakpoint
CREATE INDEX "appointments_client_phone_idx" ON "appointments" USING btree ("client_id","customer_phone");--> statement-breakpoint
CREATE INDEX "function_calls_client_call_idx" ON "function_calls" USING btree ("client_id","call_id");--> statement-breakpoint
CREATE INDEX "function_calls_client_created_idx" ON "function_calls" USING btree ("client_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_client_key_uq" ON "messages" USING btree ("client_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "messages_client_created_idx" ON "messages" USING btree ("client_id","created_at");--> statement-breakpoint
CREATE INDEX "messages_client_call_idx" ON "messages" USING btree ("client_id","call_id");--> statement-breakpoint
CREATE INDEX "messages_client_provider_id_idx" ON "messages" USING btree ("client_id","provider_message_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_runs_client_call_kind_uq" ON "workflow_runs" USING btree ("client_id","call_id","kind");