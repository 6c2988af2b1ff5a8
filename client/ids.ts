/**
 * A random id for `client_id`. `crypto.getRandomValues` works on plain-HTTP pages too, where
 * `crypto.randomUUID` does not exist.
 */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  const crypto = globalThis.crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return `c-${hex}`;
}
