import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { UnauthorizedError, ValidationError } from "../../errors.js";
import type { WebhookOutcome } from "../../metrics/metrics.js";
import { hubSignatureValid, secretsEqual } from "../constant-time.js";
import { instagramEvents } from "./inbound.js";
import type { InstagramMessages } from "./instagram-messages.js";

export const INSTAGRAM_WEBHOOK_PATH = "/api/webhooks/instagram/";
export const HUB_SIGNATURE_HEADER = "x-hub-signature-256";

/**
 * `GET` (subscription check) and `POST` (events) `/api/webhooks/instagram/`. Registered as its
 * own encapsulated plugin: the signature covers the raw bytes, so JSON bodies are kept as a
 * Buffer here and parsed only after the signature matched.
 */
export function instagramWebhookPlugin(deps: {
  appSecret: string | undefined;
  verifyToken: string | undefined;
  messages: InstagramMessages;
  log: Logger;
  outcome?: (outcome: WebhookOutcome) => void;
}) {
  return async (app: FastifyInstance): Promise<void> => {
    app.removeContentTypeParser("application/json");
    app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) =>
      done(null, body),
    );

    app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
      INSTAGRAM_WEBHOOK_PATH,
      async (request, reply) => {
        const q = request.query;
        const mode = q["hub.mode"];
        const token = q["hub.verify_token"];
        const challenge = q["hub.challenge"];
        const tokenOk = typeof token === "string" && secretsEqual(token, deps.verifyToken);
        if (mode !== "subscribe" || !tokenOk || typeof challenge !== "string") {
          return reply.code(403).send({ error: "Verification failed", code: "forbidden" });
        }
        return reply.type("text/plain; charset=utf-8").send(challenge);
      },
    );

    const duplicates = new WeakSet<object>();
    // Counted once the answer is known, so every refusal counts as rejected; server errors are
    // logged, not counted. A callback hook: an async one costs a promise per request.
    const count = (request: object, reply: { statusCode: number }, done: () => void) => {
      const status = reply.statusCode;
      if (status < 500) {
        deps.outcome?.(
          status >= 400 ? "rejected" : duplicates.has(request) ? "duplicate" : "accepted",
        );
      }
      done();
    };

    // Meta's servers call this, never a page: no CORS headers to work out per request.
    const options = { config: { cors: false as const }, onResponse: count };
    app.post(INSTAGRAM_WEBHOOK_PATH, options, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const header = request.headers[HUB_SIGNATURE_HEADER];
      const signature = typeof header === "string" ? header : undefined;
      if (!hubSignatureValid(raw, signature, deps.appSecret)) {
        if (!deps.appSecret) deps.log.warn("INSTAGRAM_APP_SECRET is not set: webhook refused");
        throw new UnauthorizedError("Invalid signature");
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"), withoutProtoKeys);
      } catch {
        throw new ValidationError("Body is not valid JSON");
      }
      const events = instagramEvents(body);
      if (events) {
        if ((await deps.messages.handle(events)) === "duplicate") duplicates.add(request);
      } else deps.log.debug("instagram webhook body ignored: not an instagram event");
      return reply.code(200).send();
    });
  };
}

// What Fastify's own parser does for other routes: a `__proto__` key is dropped, not copied.
const withoutProtoKeys = (key: string, value: unknown): unknown =>
  key === "__proto__" ? undefined : value;
