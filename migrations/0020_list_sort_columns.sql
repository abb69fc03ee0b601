DROP INDEX "calls_client_sort_idx";--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "sort_at" timestamp with time zone GENERATED ALWAYS AS (coalesce(started_at, created_at)) STORED;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "sort_at" timestamp with time zone GENERATED ALWAYS AS (coalesce(last_call_at, created_at)) STORED;--> statement-breakpoint
CREATE INDEX "calls_client_sort_at_idx" ON "calls" USING btree ("client_id","sort_at","call_id");--> statement-breakpoint
CREATE INDEX "customers_client_sort_at_idx" ON "customers" USING btree ("client_id","sort_at","id");