import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import { addSecurityHeaders } from "./security-headers.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * `false` on a route that only servers call (platform webhooks): @fastify/cors adds nothing
     * to its answers. A browser's preflight for it is still answered by the plugin's OPTIONS
     * route, and a page of a refused origin is still refused by the origin check.
     */
    cors?: false;
  }
}

export interface SecurityOptions {
  /** Origins allowed besides the server's own; undefined: every origin. */
  allowedOrigins: string[] | undefined;
  /** This server's public base URL, whose origin is always allowed. */
  publicUrl: string | undefined;
  /** Whether this process terminates TLS itself (then HSTS is ours to send). */
  tls: boolean;
}

/**
 * Headers and origin rules of protocol.md section 9, for every response of the server (API,
 * sockets and the inbox alike), so a page added later is covered without thinking of it.
 */
/**
 * Whether a request with `origin` may go on: always without an Origin header (wscat, servers,
 * same-origin GETs), always from the server's own origin (its PUBLIC_URL, or whatever host the
 * browser reached it by: behind a TLS proxy the scheme differs from the one this process sees,
 * so the host decides), and from the listed ones; from every origin when none are listed.
 */
export function originPolicy(
  opts: SecurityOptions,
): (origin: string | undefined, host: string | undefined) => boolean {
  const listed = new Set(opts.allowedOrigins ?? []);
  const publicOrigin = opts.publicUrl ? new URL(opts.publicUrl).origin : undefined;
  return (origin, host) => {
    if (origin === undefined || !opts.allowedOrigins) return true;
    if (listed.has(origin) || origin === publicOrigin) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  };
}

export async function registerSecurity(app: FastifyInstance, opts: SecurityOptions): Promise<void> {
  const allowed = originPolicy(opts);

  // First, so that every answer carries them: the origin check's 403 and the CORS preflight
  // below end the request in their own hooks.
  addSecurityHeaders(app, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // Only this origin's scripts: no inline script, no eval, no third-party code.
        scriptSrc: ["'self'"],
        // Inline style attributes only (set by the UI framework); style sheets from here.
        styleSrc: ["'self'", "'unsafe-inline'"],
        // Customer avatars may live on the platforms' hosts; media is served from here.
        imgSrc: ["'self'", "data:", "blob:", "https:"],
        mediaSrc: ["'self'", "blob:"],
        fontSrc: ["'self'"],
        // The API and the sockets (`'self'` covers ws: and wss: to this host).
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Attachment links are opened from other origins' pages (an app on another origin, an
    // <img> in a frontend), so resources may be embedded cross-origin; the CSP guards pages.
    crossOriginResourcePolicy: { policy: "cross-origin" },
    crossOriginEmbedderPolicy: false,
    // The same policy as the inbox's pages (web-routes.ts): links out carry no URL of ours.
    referrerPolicy: { policy: "same-origin" },
    // Strict-Transport-Security belongs to whoever terminates TLS: this process with native TLS,
    // else the proxy (a wrong one is hard to take back).
    strictTransportSecurity: opts.tls ? { maxAge: 15552000, includeSubDomains: true } : false,
  });

  // Before routing and the body parse, a request from a page of an origin that is not allowed is
  // refused outright. Socket upgrades are refused by the same policy in the socket server's
  // `verifyClient` (see app.ts), which answers the upgrade itself.
  // A callback hook, not an async one: every request passes here, and an async hook costs a
  // promise and a microtask turn per request.
  app.addHook("onRequest", (request, reply, done) => {
    const { origin, host, upgrade } = request.headers;
    if (upgrade?.toLowerCase() === "websocket" || allowed(origin, host)) {
      done();
      return;
    }
    reply.code(403).send({ error: "Origin not allowed", code: "forbidden_origin" });
  });

  await app.register(cors, {
    // Reflects the origin, which the hook above has let through; bearer tokens, not cookies, so
    // no credentials mode.
    origin: true,
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type"],
    // One string, not a list: the plugin joins a list again on every request.
    exposedHeaders: "Retry-After",
    maxAge: 600,
  });
}
