import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

// `sig` signs attachment and avatar links: whoever holds one can open the file until it
// expires, so it is as secret as a token.
const SECRET_PARAMS = new Set(["token", "access_token", "sig"]);

/**
 * Removes the values of `token=`, `access_token=` and `sig=` from a URL, so socket tokens and
 * signed links never reach the logs. Names are decoded as the server decodes them (`%74oken=` is `token=` to
 * URLSearchParams), otherwise an encoded name would authenticate and still be logged.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf("?");
  if (start === -1) return url;
  const hash = url.indexOf("#", start);
  const end = hash === -1 ? url.length : hash;
  const pairs = url
    .slice(start + 1, end)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq === -1) return pair;
      const name = new URLSearchParams(pair).keys().next().value ?? "";
      return SECRET_PARAMS.has(name.toLowerCase()) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    });
  return `${url.slice(0, start + 1)}${pairs.join("&")}${url.slice(end)}`;
}

// Secrets never reach the logs: credentials by path, socket tokens by the URL serializer.
// `destination` defaults to stdout; tests pass a stream to read the lines.
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
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
  };
  return destination ? pino(options, destination) : pino(options);
}
