export { webhooksRouter } from "./webhooks.handlers";
