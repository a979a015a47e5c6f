CREATE TABLE `platform_idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer NOT NULL,
	`body` text NOT NULL,
	`location` text,
	`headers` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `platform_idempotency_keys_created_idx` ON `platform_idempotency_keys` (`created_at`);