CREATE TABLE `collections` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`external_id` text,
	`description` text,
	`rule` text,
	`rule_version` integer DEFAULT 0 NOT NULL,
	`rule_status` text,
	`rule_applied_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `collections_tenant_kind_name_uq` ON `collections` (`tenant_id`,`kind`,`name`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `collections_tenant_kind_external_id_uq` ON `collections` (`tenant_id`,`kind`,`external_id`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX `collections_tenant_kind_idx` ON `collections` (`tenant_id`,`kind`,`id`);--> statement-breakpoint
CREATE TABLE `event_receipts` (
	`event_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`processed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `memberships` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`collection_id` text NOT NULL,
	`user_id` text NOT NULL,
	`source` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`end_reason` text,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`tenant_id`,`collection_id`) REFERENCES `collections`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`tenant_id`,`user_id`) REFERENCES `users`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `memberships_current_uq` ON `memberships` (`tenant_id`,`collection_id`,`user_id`) WHERE ended_at IS NULL;--> statement-breakpoint
CREATE INDEX `memberships_tenant_user_idx` ON `memberships` (`tenant_id`,`user_id`,`ended_at`);--> statement-breakpoint
CREATE INDEX `memberships_tenant_collection_idx` ON `memberships` (`tenant_id`,`collection_id`,`ended_at`,`user_id`);--> statement-breakpoint
CREATE TABLE `user_provisioning` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`event_id` text NOT NULL,
	`status` text NOT NULL,
	`errors` text,
	`requested_at` integer NOT NULL,
	`completed_at` integer,
	PRIMARY KEY(`tenant_id`, `user_id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `events` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `events` ADD `processed_at` integer;--> statement-breakpoint
ALTER TABLE `events` ADD `error` text;