import http from "node:http";

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One HTTP call over a keep-alive agent. Never throws: a network failure is status 0, which
 * the load steps count as an HTTP error like any non-2xx answer.
 */
export function request(
  agent: http.Agent,
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const all: Record<string, string> = { ...headers };
    if (payload !== undefined) {
      all["content-type"] = "application/json";
      all["content-length"] = String(Buffer.byteLength(payload));
    }
    const req = http.request(url, { method, agent, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", () => resolve({ status: 0, body: "" }));
    });
    req.on("error", (err) => resolve({ status: 0, body: err.message }));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** A call that must succeed (setup steps): the parsed JSON answer, or an error with the text. */
export async function expectJson(
  agent: http.Agent,
  url: string,
  method: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<unknown> {
  const answer = await request(agent, url, method, body, headers);
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`${method} ${new URL(url).pathname}: ${answer.status} ${answer.body}`);
  }
  return answer.body ? JSON.parse(answer.body) : null;
}

export const keepAlive = (sockets = 32): http.Agent =>
  new http.Agent({ keepAlive: true, maxSockets: sockets });
