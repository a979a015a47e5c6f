CREATE TABLE `identity_providers` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `identity_providers_tenant_name_uq` ON `identity_providers` (`tenant_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `identity_providers_tenant_prefix_uq` ON `identity_providers` (`tenant_id`,`prefix`);--> statement-breakpoint
CREATE TABLE `roles` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`weight` integer DEFAULT 0 NOT NULL,
	`permissions` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `roles_tenant_name_uq` ON `roles` (`tenant_id`,`name`);--> statement-breakpoint
ALTER TABLE `users` ADD `role_id` text;--> statement-breakpoint
ALTER TABLE `users` ADD `identity_provider_id` text;--> statement-breakpoint
CREATE INDEX `users_tenant_role_idx` ON `users` (`tenant_id`,`role_id`);--> statement-breakpoint
CREATE INDEX `users_tenant_identity_provider_idx` ON `users` (`tenant_id`,`identity_provider_id`);