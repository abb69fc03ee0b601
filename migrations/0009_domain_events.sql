CREATE TABLE "domain_event_sequences" (
	"client_id" text PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "domain_events" (
	"id" uuid NOT NULL,
	"client_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"type" text NOT NULL,
	"version" integer NOT NULL,
	"idempotency_key" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "domain_events_client_id_id_pk" PRIMARY KEY("client_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "domain_events_client_seq_uq" ON "domain_events" USING btree ("client_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "domain_events_client_key_uq" ON "domain_events" USING btree ("client_id","idempotency_key");