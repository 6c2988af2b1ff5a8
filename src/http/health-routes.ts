import type { FastifyInstance } from "fastify";
import type { Bus } from "../bus/bus.js";
import type { Store } from "../store/store.js";

/** protocol.md section 9: liveness, and readiness of the database and the bus. */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { store: Store; bus: Bus; isDraining: () => boolean },
): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    const checks = await Promise.allSettled([opts.store.ping(), opts.bus.ping()]);
    const [database, bus] = checks.map((c) => (c.status === "fulfilled" ? "ok" : "unavailable"));
    const ready = database === "ok" && bus === "ok" && !opts.isDraining();
    if (!ready) request.log.warn({ database, bus }, "not ready");
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? "ok" : "unavailable", database, bus, draining: opts.isDraining() });
  });
}
