CREATE TABLE `feed_horizons` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`pruned_through_seq` integer NOT NULL,
	`pruned_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenant_fences` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenant_moves` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`from_shard` text NOT NULL,
	`to_shard` text NOT NULL,
	`status` text NOT NULL,
	`progress` text DEFAULT '{}' NOT NULL,
	`error` text,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`fenced_at` integer,
	`cutover_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `tenant_moves_tenant_idx` ON `tenant_moves` (`tenant_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `tenant_moves_status_idx` ON `tenant_moves` (`status`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `shard` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `event_retention_days` integer;--> statement-breakpoint
CREATE INDEX `event_receipts_tenant_processed_idx` ON `event_receipts` (`tenant_id`,`processed_at`);--> statement-breakpoint
CREATE INDEX `memberships_tenant_ended_idx` ON `memberships` (`tenant_id`,`ended_at`);