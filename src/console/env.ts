/** The console's Hono environment: the app's, plus the signed-in session. */
import type { Env, Variables } from "../env";
import type { ConsoleSession } from "./sessions";

export interface ConsoleEnv {
  Bindings: Env;
  Variables: Variables & { session: ConsoleSession };
}
