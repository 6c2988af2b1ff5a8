// Recognizes a unique-constraint violation from either driver, so sub-stores can turn it into
// a `ConflictError` without knowing which database they talk to.

const SQLITE_UNIQUE = new Set(["SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"]);
const PG_UNIQUE_VIOLATION = "23505";

export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("code" in error)) return false;
  const { code } = error;
  return code === PG_UNIQUE_VIOLATION || (typeof code === "string" && SQLITE_UNIQUE.has(code));
}
