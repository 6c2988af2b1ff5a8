import type { FastifyError, FastifyInstance } from "fastify";
import type { z } from "zod";
import { AppError, RateLimitedError, ValidationError } from "../errors.js";

/** Parses request input at the edge; a mismatch is a 400 that names the field. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join(".");
  throw new ValidationError(
    path ? `${path}: ${issue?.message}` : (issue?.message ?? "Invalid input"),
  );
}

/** The one place where errors become HTTP answers: JSON `{error, code}`. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    if (err instanceof AppError) {
      if (err.status >= 500) request.log.error({ err }, err.message);
      if (err instanceof RateLimitedError) reply.header("retry-after", err.retryAfterSeconds);
      return reply.status(err.status).send({ error: err.message, code: err.code });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, "request failed");
      return reply.status(500).send({ error: "Internal server error", code: "internal_error" });
    }
    const code =
      err.code === "FST_ERR_CTP_INVALID_JSON_BODY" ||
      err.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ||
      err instanceof SyntaxError
        ? "invalid_json"
        : status === 413
          ? "too_large"
          : status === 415
            ? "unsupported_media_type"
            : "invalid";
    return reply.status(status).send({ error: err.message, code });
  });
  app.setNotFoundHandler((_request, reply) => {
    reply.status(404).send({ error: "Not found", code: "not_found" });
  });
}
