import { type Logger, pino } from "pino";

/** Removes the value of `token=` from a URL, so socket tokens never reach the logs. */
export const redactUrl = (url: string): string =>
  url.replace(/([?&](?:token|access_token)=)[^&#]*/gi, "$1[redacted]");

// Secrets never reach the logs: credentials by path, socket tokens by the URL serializer.
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        "req.headers.authorization",
        'req.headers["x-telegram-bot-api-secret-token"]',
        "password",
        "*.password",
        "credentials",
        "*.credentials",
        "*.botToken",
        "*.accessToken",
        "*.secretToken",
        "*.bot_token",
        "*.access_token",
      ],
      censor: "[redacted]",
    },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string }) => ({
        method: req.method,
        url: redactUrl(req.url ?? ""),
        remoteAddress: req.ip,
      }),
      err: pino.stdSerializers.err,
    },
  });
}
