CREATE TABLE `invitations` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`user_id` text NOT NULL,
	`email` text NOT NULL,
	`status` text NOT NULL,
	`send_email` integer NOT NULL,
	`organization_ids` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`sent_count` integer DEFAULT 1 NOT NULL,
	`last_sent_at` integer NOT NULL,
	`accepted_at` integer,
	`revoked_at` integer,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `invitations_tenant_user_idx` ON `invitations` (`tenant_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `invitations_tenant_status_idx` ON `invitations` (`tenant_id`,`status`,`id`);--> statement-breakpoint
ALTER TABLE `users` ADD `status` text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `invitation_expires_at` integer;