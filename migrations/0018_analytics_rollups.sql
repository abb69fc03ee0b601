CREATE TABLE "analytics_call_entries" (
	"client_id" text NOT NULL,
	"call_id" text NOT NULL,
	"slice" timestamp with time zone NOT NULL,
	"outcome" smallint NOT NULL,
	"sentiment" smallint NOT NULL,
	"duration_ms" bigint NOT NULL,
	CONSTRAINT "analytics_call_entries_client_id_call_id_pk" PRIMARY KEY("client_id","call_id")
);
--> statement-breakpoint
CREATE TABLE "analytics_function_rollups" (
	"client_id" text NOT NULL,
	"slice" timestamp with time zone NOT NULL,
	"name" text NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_function_rollups_client_id_slice_name_pk" PRIMARY KEY("client_id","slice","name")
);
--> statement-breakpoint
CREATE TABLE "analytics_message_rollups" (
	"client_id" text NOT NULL,
	"slice" timestamp with time zone NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"n" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_message_rollups_client_id_slice_channel_status_pk" PRIMARY KEY("client_id","slice","channel","status")
);
--> statement-breakpoint
CREATE TABLE "analytics_rollups" (
	"client_id" text NOT NULL,
	"slice" timestamp with time zone NOT NULL,
	"calls" integer DEFAULT 0 NOT NULL,
	"connected" integer DEFAULT 0 NOT NULL,
	"total_duration_ms" bigint DEFAULT 0 NOT NULL,
	"with_duration" integer DEFAULT 0 NOT NULL,
	"booked" integer DEFAULT 0 NOT NULL,
	"message" integer DEFAULT 0 NOT NULL,
	"voicemail" integer DEFAULT 0 NOT NULL,
	"no_answer" integer DEFAULT 0 NOT NULL,
	"positive" integer DEFAULT 0 NOT NULL,
	"negative" integer DEFAULT 0 NOT NULL,
	"neutral" integer DEFAULT 0 NOT NULL,
	"appointments_booked" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_rollups_client_id_slice_pk" PRIMARY KEY("client_id","slice")
);
