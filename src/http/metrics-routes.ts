import type { FastifyInstance } from "fastify";
import type { Metrics } from "../metrics/metrics.js";
import { secretsEqual } from "../platforms/constant-time.js";
import { bearerToken } from "./authenticate.js";

/** `GET /metrics`: this process's figures; with METRICS_TOKEN set, only for its bearer. */
export async function metricsRoutes(
  app: FastifyInstance,
  opts: { metrics: Metrics; token: string | undefined },
): Promise<void> {
  app.get("/metrics", { logLevel: "warn" }, async (request, reply) => {
    if (opts.token) {
      if (!secretsEqual(bearerToken(request.headers.authorization), opts.token)) {
        return reply
          .status(401)
          .header("www-authenticate", 'Bearer realm="metrics"')
          .send({ error: "Invalid metrics token", code: "unauthorized" });
      }
    }
    const { contentType, body } = await opts.metrics.render();
    return reply.type(contentType).send(body);
  });
}
