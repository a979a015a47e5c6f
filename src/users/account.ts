/**
 * The account fields of users/fields.ts (ACCOUNT_FIELDS) in a create or a change: the password
 * policy, resetPassword -> passwordResetRequired, doNotEmail. Without I/O, like validate.ts;
 * the password is hashed afterwards (users/write.ts, users/update.ts) and only once the whole
 * request is valid, because PBKDF2 is the most expensive thing a request can make us do.
 */
import type { FieldError } from "../http/errors";
import type { UserFields, UserRow } from "./model";
import { checkPassword } from "./password";

type AccountColumns = Pick<UserRow, "passwordHash" | "passwordResetRequired" | "doNotEmail" | "lastActivityAt" | "passwordFailures" | "passwordFailuresSince" | "lockedUntil">;

/** A new user's account columns. `password` is what to hash (null: none). */
export function newAccount(input: UserFields, email: string | null, errors: FieldError[]): { columns: AccountColumns; password: string | null } {
  const password = input.password ?? null;
  if (password !== null) errors.push(...checkPassword(password, email));
  return {
    columns: {
      passwordHash: null,
      passwordResetRequired: input.resetPassword ?? false,
      doNotEmail: input.doNotEmail ?? false,
      lastActivityAt: null,
      passwordFailures: 0,
      passwordFailuresSince: null,
      lockedUntil: null,
    },
    password,
  };
}

/**
 * What a change does to the account columns. `password`: undefined keeps the hash, null removes
 * it, a string is to be hashed. A new or removed password also ends a lockout (an administrator
 * reset it) and shows in the event as `passwordChanged: true`, never as a value.
 */
export function patchAccount(
  row: UserRow,
  patch: UserFields,
  email: string | null,
  errors: FieldError[],
  changes: Record<string, unknown>,
): { set: Partial<AccountColumns>; password: string | null | undefined } {
  const set: Partial<AccountColumns> = {};
  if (patch.resetPassword !== undefined && patch.resetPassword !== row.passwordResetRequired) {
    set.passwordResetRequired = patch.resetPassword;
    changes.passwordResetRequired = patch.resetPassword;
  }
  if (patch.doNotEmail !== undefined && patch.doNotEmail !== row.doNotEmail) {
    set.doNotEmail = patch.doNotEmail;
    changes.doNotEmail = patch.doNotEmail;
  }
  const password = patch.password;
  if (typeof password === "string") errors.push(...checkPassword(password, email));
  if (password === null && row.passwordHash === null) return { set, password: undefined };
  if (password !== undefined) {
    Object.assign(set, { passwordHash: null, passwordFailures: 0, passwordFailuresSince: null, lockedUntil: null });
    changes.passwordChanged = true;
  }
  return { set, password };
}
