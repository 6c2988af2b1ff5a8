// Platform error texts may carry secrets: grammY's network errors wrap a fetch error whose
// message holds the request URL, and Telegram file URLs embed the bot token. Everything that
// reaches a log line or a stored `delivery_error` goes through here first.

const TELEGRAM_TOKEN_IN_TEXT = /\d{3,}:[A-Za-z0-9_-]{20,}/g;

/** Replaces the given secrets and anything shaped like a Telegram bot token. */
export function redact(text: string, ...secrets: Array<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out.replace(TELEGRAM_TOKEN_IN_TEXT, "[redacted]");
}

/** A short, secret-free description of any thrown value, for log lines. */
export function describeError(err: unknown, ...secrets: Array<string | undefined>): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return redact(text, ...secrets).slice(0, 500);
}
