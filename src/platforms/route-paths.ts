import type { FastifyInstance } from "fastify";

/**
 * Every path answers with and without its trailing slash. When the app already treats them as
 * one (`ignoreTrailingSlash`), registering both would be a duplicate route, so only one is.
 */
export function withAndWithoutSlash(app: FastifyInstance, path: string): string[] {
  const bare = path.replace(/\/+$/, "");
  const slashed = `${bare}/`;
  const config = app.initialConfig;
  const ignoring = config.routerOptions
    ? config.routerOptions.ignoreTrailingSlash
    : config.ignoreTrailingSlash;
  return ignoring ? [slashed] : [slashed, bare];
}
