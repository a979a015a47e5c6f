ALTER TABLE `users` ADD `user_name` text;--> statement-breakpoint
ALTER TABLE `users` ADD `user_name_lower` text;--> statement-breakpoint
ALTER TABLE `users` ADD `employee_number` text;--> statement-breakpoint
ALTER TABLE `users` ADD `cost_center` text;--> statement-breakpoint
ALTER TABLE `users` ADD `organization` text;--> statement-breakpoint
ALTER TABLE `users` ADD `division` text;--> statement-breakpoint
-- Hand-added backfill: the effective userName of existing users is their email.
UPDATE `users` SET `user_name_lower` = `email_lower` WHERE `user_name_lower` IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_user_name_uq` ON `users` (`tenant_id`,`user_name_lower`);--> statement-breakpoint
CREATE INDEX `users_tenant_live_idx` ON `users` (`tenant_id`,`id`) WHERE "erased_at" IS NULL;--> statement-breakpoint
-- Hand-corrected: drizzle-kit splits expression indexes at commas; this is the expression in schema.ts.
CREATE INDEX `users_tenant_display_name_eff_idx` ON `users` (`tenant_id`,lower(coalesce("display_name", trim(coalesce("first_name", '') || ' ' || coalesce("last_name", '')))));
