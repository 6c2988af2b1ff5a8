import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

/** One thing helmet's middleware does to a response: set a header, or remove one. */
type HeaderStep = { name: string; value: string | undefined };

/**
 * Runs helmet's middleware once against a response that only records what is done to it.
 * Two runs with different requests must agree: a policy with a per-request value (a nonce
 * directive, a function) cannot be replayed, and refuses to start instead of sending a stale one.
 */
function recordHeaderSteps(options: HelmetOptions): HeaderStep[] {
  const middleware = helmet(options);
  const record = (path: string): HeaderStep[] => {
    const steps: HeaderStep[] = [];
    const response = {
      locals: {},
      setHeader(name: string, value: string) {
        steps.push({ name, value });
        return response;
      },
      removeHeader(name: string) {
        steps.push({ name, value: undefined });
      },
    };
    let failure: unknown;
    middleware(
      { url: path, method: "GET", headers: {} } as IncomingMessage,
      response as unknown as ServerResponse,
      (err) => {
        failure = err;
      },
    );
    if (failure !== undefined) throw failure;
    return steps;
  };
  const steps = record("/");
  if (JSON.stringify(record("/other")) !== JSON.stringify(steps)) {
    throw new Error("security headers depend on the request: they cannot be set from one record");
  }
  return steps;
}

/**
 * Helmet's headers on every response of `app`'s routes (and of the plugins registered inside
 * it). Helmet's middleware runs once at start and what it set is replayed on each response:
 * running its twelve middlewares per request costs about 2% of a webhook request's CPU (and
 * @fastify/helmet rebuilds the whole policy per request). The headers are set on the raw
 * response in helmet's order and spelling, so a route's own header of the same name wins.
 */
export function addSecurityHeaders(app: FastifyInstance, options: HelmetOptions): void {
  const steps = recordHeaderSteps(options);
  app.addHook("onRequest", (_request, reply, done) => {
    const response = reply.raw;
    for (const { name, value } of steps) {
      if (value === undefined) response.removeHeader(name);
      else response.setHeader(name, value);
    }
    done();
  });
}
