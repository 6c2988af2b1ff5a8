import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { addSecurityHeaders } from "./security-headers.js";

// protocol.md section 12: the agent inbox at `/`, built by Vite into `dist/web`. Hashed files
// under `/assets/` never change, so browsers may keep them for a year; `index.html` names the
// current hashes and is revalidated on every load, so a new build shows up at the next reload.

const IMMUTABLE = "public, max-age=31536000, immutable";
const NOT_FOUND = { error: "Not found", code: "not_found" };

/** `dist/web` at the repository root, from `src/http` (tsx) or `dist/src/http` (built). */
export function defaultWebRoot(): string {
  let root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
  if (basename(root) === "dist") root = dirname(root);
  return join(root, "dist", "web");
}

export interface WebRoutesOptions {
  /** The folder holding the built `index.html` and `assets/`. */
  root?: string;
}

/** Paths the app's client-side router may own: everything but the API, sockets and probes. */
function isAppPath(path: string): boolean {
  return !/^\/(api|ws|assets)(\/|$)/.test(path) && !/^\/(healthz|readyz|metrics)\/?$/.test(path);
}

function acceptsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").includes("text/html");
}

const notBuilt = (root: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>Fiko Chat</title>` +
  `<body><h1>The inbox is not built</h1><p>Run <code>npm run build</code> (or <code>npm start</code>, ` +
  `which builds first), then reload. Expected files in <code>${root}</code>.</p></body></html>`;

export async function webRoutes(app: FastifyInstance, opts: WebRoutesOptions): Promise<void> {
  const root = opts.root ?? defaultWebRoot();
  const indexFile = join(root, "index.html");

  // Scoped to this plugin: the app's pages get a CSP that runs only this origin's scripts.
  // No upgrade-insecure-requests: a server reached over plain HTTP on a LAN must keep working.
  addSecurityHeaders(app, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:", "blob:", "https:"],
        mediaSrc: ["'self'", "blob:", "https:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: "same-origin" },
    // Plain HTTP is a supported deployment (TLS at a proxy); HSTS is the proxy's decision.
    strictTransportSecurity: false,
  });

  await app.register(fastifyStatic, {
    root: join(root, "assets"),
    prefix: "/assets/",
    decorateReply: true,
    cacheControl: false,
    index: false,
    // Also called for `sendFile("index.html")` below, which must stay revalidated.
    setHeaders: (reply, path) => {
      reply.header("cache-control", path === indexFile ? "no-cache" : IMMUTABLE);
    },
  });

  const sendIndex = (request: FastifyRequest, reply: FastifyReply) => {
    if (!existsSync(indexFile)) {
      reply.code(503).header("cache-control", "no-store");
      if (!acceptsHtml(request)) {
        return reply.send({
          error: "The inbox is not built: run `npm run build`",
          code: "not_built",
        });
      }
      return reply.type("text/html; charset=utf-8").send(notBuilt(root));
    }
    return reply.sendFile("index.html", root, { cacheControl: false });
  };

  app.get("/", (request, reply) => sendIndex(request, reply));
  // The single-page fallback: a reload on `/channels` gets the app; API paths, sockets and
  // clients that do not ask for HTML keep the JSON 404.
  app.get("/*", (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    if (isAppPath(path) && acceptsHtml(request)) return sendIndex(request, reply);
    return reply.code(404).send(NOT_FOUND);
  });
}
