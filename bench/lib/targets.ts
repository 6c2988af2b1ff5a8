import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { BenchTelegram } from "./fake-telegram.js";
import { expectJson, keepAlive, request } from "./http.js";
import { freePort, type ServerProcess, startProcess } from "./server-process.js";
import { freshDatabase, type PostgresDatabase, type RedisPrefix, redisPrefix } from "./services.js";
import { inParallel } from "./stats.js";

/**
 * What a scenario drives: one or more server processes with `customers` conversations of one
 * owner, the socket URLs, and a way to post a customer message as a Telegram webhook.
 */
export interface Target {
  readonly kind: "fiko" | "bare";
  readonly servers: ServerProcess[];
  /** Conversation id of customer `i` (0-based). */
  readonly conversations: string[];
  chatUrl(conversation: number, server: number): string;
  listUrl(server: number): string;
  /** Posts a customer message of customer `i` to server `server`; the HTTP status (0: failed). */
  post(server: number, customer: number, text: string): Promise<number>;
  /** `sendMessage` calls the fake Telegram answered (0 for the bare server). */
  telegramSends(): number;
  close(): Promise<void>;
}

export interface ServerChoice {
  core: string;
  /** Run the built `dist/src/main.js` instead of `src/main.ts` through tsx. */
  dist: boolean;
  /** The checkout whose server is measured (another worktree, say); the bare server stays ours. */
  root: string;
}

/** Every abuse limit of contract section 9 off, as test/helpers/server.ts LIMITS_OFF, plus frames. */
export const LIMITS_OFF: Record<string, string> = {
  SIGNIN_FAILURE_LIMIT: "0",
  REGISTRATION_RATE_LIMIT: "0",
  REST_RATE_LIMIT: "0",
  WS_CONNECT_RATE_LIMIT: "0",
  MAX_SOCKETS_PER_USER: "0",
  WS_RATE_LIMIT: "0",
};

const CUSTOMER_BASE = 700_000;
let updateId = 1;
let messageId = 1;

/** A Telegram `message` update from customer `i`, as Telegram posts it. */
function update(customer: number, text: string) {
  const id = CUSTOMER_BASE + customer;
  return {
    update_id: updateId++,
    message: {
      message_id: messageId++,
      date: Math.floor(Date.now() / 1000),
      chat: { id, type: "private", first_name: `C${customer}`, last_name: "Bench" },
      from: {
        id,
        is_bot: false,
        first_name: `C${customer}`,
        last_name: "Bench",
        username: `bench_c${customer}`,
      },
      text,
    },
  };
}

function poster(servers: ServerProcess[], path: string, headers: Record<string, string>) {
  const agents = servers.map(() => keepAlive(32));
  const post = async (server: number, customer: number, text: string) => {
    const base = servers[server];
    const agent = agents[server];
    if (!base || !agent) return 0;
    return (await request(agent, base.baseUrl + path, "POST", update(customer, text), headers))
      .status;
  };
  return { post, agents };
}

/**
 * `BENCH_PROFILE_DIR=dir`: every Fiko process writes a V8 CPU profile there when it stops
 * (open it in Chrome's DevTools, or summarise it with `node bench/profile-summary.ts`).
 * `BENCH_PERF_MAP=1`: every Fiko process writes `/tmp/perf-<pid>.map`, so that
 * `perf record -g -p <pid>` names JavaScript functions; perf samples the CPU the kernel and
 * the native libraries use too, which the V8 profile does not show.
 */
function profileArgs(): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  // The perf map also turns V8's event log on: kept out of the working tree, one file in tmp.
  const log = join(tmpdir(), "fiko-bench-v8.log");
  const perf =
    process.env.BENCH_PERF_MAP === "1"
      ? ["--perf-basic-prof", "--no-logfile-per-isolate", `--logfile=${log}`]
      : [];
  // `BENCH_NODE_FLAGS="--trace-deopt ..."`: more flags for the Fiko processes (their output
  // reaches the bench's stderr once they are up).
  const extra = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
  return [...perf, ...extra, ...(dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [])];
}

/** Posts the first message of every customer, so the conversations exist before sockets open. */
async function openConversations(post: Target["post"], customers: number): Promise<void> {
  await inParallel(customers, 8, async (customer) => {
    const status = await post(0, customer, `hello from ${customer}`);
    if (status !== 200) throw new Error(`first webhook answered ${status}`);
  });
}

export async function startBare(choice: ServerChoice, customers: number): Promise<Target> {
  const port = await freePort();
  // Through tsx either way: its loader costs only at start, outside every measured window.
  const args = ["--import", "tsx", "bench/bare-server.ts"];
  const server = await startProcess({ args, env: { PORT: String(port) }, core: choice.core, port });
  const { post, agents } = poster([server], "/webhook", {});
  await openConversations(post, customers);
  return {
    kind: "bare",
    servers: [server],
    conversations: Array.from({ length: customers }, (_, i) => `conv_${CUSTOMER_BASE + i}`),
    chatUrl: (c) => `${server.wsUrl}/ws/chat/conv_${CUSTOMER_BASE + c}/`,
    listUrl: () => `${server.wsUrl}/ws/conversations/`,
    post,
    telegramSends: () => 0,
    async close() {
      for (const agent of agents) agent.destroy();
      await server.stop();
    },
  };
}

const tokenAnswer = z.object({ access: z.string() });
const channelAnswer = z.object({ id: z.string() });
const pageAnswer = z.object({
  conversations: z.array(
    z.object({ id: z.string(), customer: z.object({ username: z.string().nullable() }) }),
  ),
});

/**
 * Fiko as shipped with the abuse limits off: one process on SQLite, or `processes` processes on
 * a fresh PostgreSQL database and a fresh Redis key prefix (both removed by `close`).
 */
export async function startFiko(
  choice: ServerChoice,
  customers: number,
  cluster?: { processes: number; databaseUrl: string; redisUrl: string },
): Promise<Target> {
  const telegram = await BenchTelegram.start();
  const dataDir = mkdtempSync(join(tmpdir(), "fiko-bench-"));
  let database: PostgresDatabase | undefined;
  let redis: RedisPrefix | undefined;
  const servers: ServerProcess[] = [];
  const agents: http.Agent[] = [];
  const close = async () => {
    for (const agent of agents) agent.destroy();
    for (const server of servers) await server.stop();
    await telegram.close();
    await database?.drop();
    await redis?.clear();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const env: Record<string, string> = {
      HOST: "127.0.0.1",
      SQLITE_PATH: join(dataDir, "fiko.sqlite"),
      JWT_SECRET: randomBytes(24).toString("hex"),
      LOG_LEVEL: "warn",
      TELEGRAM_API_ROOT: telegram.apiRoot,
      NODE_ENV: "production",
      ...LIMITS_OFF,
    };
    if (cluster) {
      database = await freshDatabase(cluster.databaseUrl);
      redis = await redisPrefix(cluster.redisUrl);
      env.DATABASE_URL = database.url;
      env.REDIS_URL = cluster.redisUrl;
      env.REDIS_PREFIX = redis.prefix;
    }
    const ports: number[] = [];
    // One after the other: the first one migrates the database.
    for (let i = 0; i < (cluster?.processes ?? 1); i++) {
      const port = await freePort();
      ports.push(port);
      const args = [
        ...profileArgs(),
        ...(choice.dist ? ["dist/src/main.js"] : ["--import", "tsx", "src/main.ts"]),
      ];
      const publicUrl = `http://127.0.0.1:${ports[0] ?? port}`;
      servers.push(
        await startProcess({
          args,
          env: { ...env, PORT: String(port), PUBLIC_URL: publicUrl },
          core: choice.core,
          port,
          cwd: choice.root,
        }),
      );
    }
    const first = servers[0];
    if (!first) throw new Error("no server");
    const setup = keepAlive(4);
    agents.push(setup);
    const username = `bench_${randomBytes(4).toString("hex")}`;
    const password = "bench-password-0123";
    await expectJson(setup, `${first.baseUrl}/api/auth/register/`, "POST", {
      username,
      password,
      first_name: "Bench",
      last_name: "Agent",
    });
    const { access } = tokenAnswer.parse(
      await expectJson(setup, `${first.baseUrl}/api/auth/token/`, "POST", { username, password }),
    );
    const auth = { authorization: `Bearer ${access}` };
    const botToken = `${100000 + Math.floor(Math.random() * 800000)}:${randomBytes(26).toString("base64url").slice(0, 35)}`;
    const channel = channelAnswer.parse(
      await expectJson(
        setup,
        `${first.baseUrl}/api/channels/`,
        "POST",
        { platform: "telegram", bot_token: botToken },
        auth,
      ),
    );
    const webhooks = poster(servers, `/api/webhooks/telegram/${channel.id}/`, {
      "x-telegram-bot-api-secret-token": telegram.secret,
    });
    agents.push(...webhooks.agents);
    await openConversations(webhooks.post, customers);
    const page = pageAnswer.parse(
      await expectJson(
        setup,
        `${first.baseUrl}/api/conversations/?limit=100`,
        "GET",
        undefined,
        auth,
      ),
    );
    const byUser = new Map(page.conversations.map((c) => [c.customer.username, c.id]));
    const conversations = Array.from({ length: customers }, (_, i) => {
      const id = byUser.get(`bench_c${i}`);
      if (!id) throw new Error(`conversation of customer ${i} not found`);
      return id;
    });
    const ws = (server: number) => (servers[server] ?? first).wsUrl;
    return {
      kind: "fiko",
      servers,
      conversations,
      chatUrl: (c, server) => `${ws(server)}/ws/chat/${conversations[c]}/?token=${access}`,
      listUrl: (server) => `${ws(server)}/ws/conversations/?token=${access}`,
      post: webhooks.post,
      telegramSends: () => telegram.sendMessages,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
