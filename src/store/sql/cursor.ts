import { ValidationError } from "../../errors.js";

// The conversation list's keyset cursor: the (updated_at, id) of the last row of a page,
// base64url JSON so that clients treat it as opaque and cannot build one by hand easily.

export interface ListPosition {
  updatedAt: number;
  id: string;
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.updatedAt, position.id])).toString("base64url");
}

/** Throws `ValidationError` for anything that is not a cursor this module made. */
export function decodeCursor(cursor: string): ListPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new ValidationError("Invalid cursor");
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== "string"
  ) {
    throw new ValidationError("Invalid cursor");
  }
  return { updatedAt: parsed[0] as number, id: parsed[1] };
}
