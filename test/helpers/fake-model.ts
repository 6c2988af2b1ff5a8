import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** One request the fake received. */
export interface ModelRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: {
    model?: string;
    messages?: Array<{ role: string; content: string }>;
    tools?: unknown[];
  } & Record<string, unknown>;
  at: number;
}

/**
 * A scripted answer: text and/or one `handoff_to_human`-style tool call, or an HTTP error, or
 * no answer at all (`hang`: held until the caller gives up or the fake closes). `until` holds
 * the answer back until the promise settles; `delayMs` adds a pause.
 */
export type ModelReply =
  | {
      text?: string | null;
      toolCall?: { name: string; arguments: string };
      delayMs?: number;
      until?: Promise<unknown>;
    }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true };

export const textReply = (text: string): ModelReply => ({ text });
export const handoffReply = (reason: string, text: string | null = null): ModelReply => ({
  text,
  toolCall: { name: "handoff_to_human", arguments: JSON.stringify({ reason }) },
});
export const errorReply = (status: number, headers?: Record<string, string>): ModelReply => ({
  status,
  body: { error: { message: `fake error ${status}`, type: "server_error", code: null } },
  ...(headers && { headers }),
});

export const DEFAULT_ANSWER = "Thanks for writing! How can I help?";

/**
 * An OpenAI-compatible Chat Completions server on 127.0.0.1 (port 0): records every request and
 * answers from a script, then with `DEFAULT_ANSWER`.
 */
export class FakeModel {
  readonly requests: ModelRequest[] = [];
  private readonly replies: ModelReply[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    /** The `AI_BASE_URL` to configure: `http://127.0.0.1:PORT/v1`. */
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<FakeModel> {
    let fake: FakeModel | undefined;
    const server = createServer((req, res) => {
      fake?.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeModel(server, `http://127.0.0.1:${port}/v1`);
    return fake;
  }

  /** The next requests get these answers, in order. */
  script(...replies: ModelReply[]): void {
    this.replies.push(...replies);
  }

  /** Resolves once `count` requests were received in all. */
  async waitForRequests(count: number, timeoutMs = 15_000): Promise<ModelRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`expected ${count} model requests, got ${this.requests.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        const waiters = this.waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    return this.requests;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const body = (raw ? JSON.parse(raw) : {}) as ModelRequest["body"];
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    this.requests.push({
      method: req.method ?? "",
      path,
      headers: req.headers,
      body,
      at: Date.now(),
    });
    for (const wake of [...this.waiters]) wake();
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return send(res, 404, { error: { message: "not found" } });
    }
    const reply = this.replies.shift() ?? { text: DEFAULT_ANSWER };
    if ("hang" in reply) {
      this.hanging.add(res);
      res.once("close", () => this.hanging.delete(res));
      return;
    }
    if ("status" in reply) return send(res, reply.status, reply.body ?? {}, reply.headers);
    if (reply.until) await reply.until;
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    const toolCalls = reply.toolCall
      ? [
          {
            id: `call_${this.requests.length}`,
            type: "function",
            function: { name: reply.toolCall.name, arguments: reply.toolCall.arguments },
          },
        ]
      : undefined;
    send(res, 200, {
      id: `chatcmpl-${this.requests.length}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? "unknown",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: reply.text === undefined ? null : reply.text,
            ...(toolCalls && { tool_calls: toolCalls }),
          },
          finish_reason: toolCalls ? "tool_calls" : "stop",
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
