CREATE TABLE `rate_limit_blocks` (
	`ip` text PRIMARY KEY NOT NULL,
	`blocked_at` integer NOT NULL,
	`blocked_until` integer NOT NULL,
	`rejections` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rate_limit_blocks_until_idx` ON `rate_limit_blocks` (`blocked_until`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `rate_limit_ip_per_second` integer;--> statement-breakpoint
ALTER TABLE `tenants` ADD `rate_limit_tenant_per_second` integer;