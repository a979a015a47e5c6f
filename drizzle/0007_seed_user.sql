CREATE TABLE `user_devices` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`id` text NOT NULL,
	`platform` text,
	`model` text,
	`name` text,
	`app_version` text,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `user_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`tenant_id`,`user_id`) REFERENCES `users`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `users` ADD `password_hash` text;--> statement-breakpoint
ALTER TABLE `users` ADD `password_reset_required` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `do_not_email` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `last_activity_at` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `password_failures` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `password_failures_since` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `locked_until` integer;--> statement-breakpoint
-- Hand-corrected: drizzle-kit splits the coalesce(...) expression at its comma into two quoted
-- "columns"; the index is on the expression the filters compile to (db/schema/users.ts).
CREATE INDEX `users_tenant_last_activity_idx` ON `users` (`tenant_id`,coalesce("last_activity_at", 0));