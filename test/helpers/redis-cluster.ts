import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { createClient, type RedisClientType } from "@redis/client";
import { waitFor } from "./cluster.js";

// A Redis Cluster of the suite's own: N primaries, no replicas (a test may add one), on free
// localhost ports, each a `redis-server` child process with its files in one temporary directory.

type Admin = RedisClientType;

const run = promisify(execFile);

export interface TestClusterOptions {
  /** `cluster-node-timeout`: how long a node may not answer before it is failed over. */
  nodeTimeoutMs?: number;
}

interface ClusterNode {
  readonly port: number;
  readonly busPort: number;
  child: ChildProcess | undefined;
  admin: Admin | undefined;
}

export class RedisTestCluster {
  private constructor(
    private readonly dir: string,
    private readonly nodes: ClusterNode[],
    private readonly options: TestClusterOptions,
  ) {}

  /** Starts `primaries` nodes, joins them into one cluster and waits for `cluster_state:ok`. */
  static async start(primaries = 3, options: TestClusterOptions = {}): Promise<RedisTestCluster> {
    const dir = mkdtempSync(join(tmpdir(), "fiko-redis-cluster-"));
    const cluster = new RedisTestCluster(dir, [], options);
    try {
      const nodes: ClusterNode[] = [];
      for (let i = 0; i < primaries; i++) nodes.push(await cluster.addNode());
      await run(
        "redis-cli",
        [
          "--cluster",
          "create",
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          "--cluster-replicas",
          "0",
          "--cluster-yes",
        ],
        { timeout: 20_000 },
      );
      await cluster.waitOk();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** The first node's address: any node will do as REDIS_URL. */
  get url(): string {
    return this.urlOf(0);
  }

  get size(): number {
    return this.nodes.length;
  }

  urlOf(index: number): string {
    return `redis://127.0.0.1:${this.node(index).port}`;
  }

  /** A plain (non-cluster) client of node `index`, for commands about that node itself. */
  admin(index: number): Admin {
    const admin = this.node(index).admin;
    if (!admin?.isReady) throw new Error(`cluster node ${index} is not up`);
    return admin;
  }

  /**
   * Starts a new node, makes it a replica of node `of` and waits until it has synced; resolves
   * with its index.
   */
  async addReplica(of: number): Promise<number> {
    const primaryId = String(await this.admin(of).sendCommand(["CLUSTER", "MYID"]));
    const primary = this.node(of);
    const node = await this.addNode();
    const index = this.nodes.indexOf(node);
    const admin = this.admin(index);
    await admin.sendCommand([
      "CLUSTER",
      "MEET",
      "127.0.0.1",
      String(primary.port),
      String(primary.busPort),
    ]);
    // REPLICATE needs the primary known first; gossip brings it within a moment.
    await waitFor(
      () =>
        admin.sendCommand(["CLUSTER", "REPLICATE", primaryId]).then(
          () => true,
          () => false,
        ),
      `node ${index} replicating node ${of}`,
      10_000,
    );
    await waitFor(
      async () =>
        /^master_link_status:up\b/m.test(String(await admin.sendCommand(["INFO", "replication"]))),
      `replica ${index} in sync`,
      10_000,
    );
    // A failover needs the votes of the other primaries: every node must know every other.
    await this.waitOk();
    return index;
  }

  /** `master` or `slave`, as node `index` sees itself. */
  async role(index: number): Promise<string> {
    const info = String(await this.admin(index).sendCommand(["INFO", "replication"]));
    return /^role:(\w+)/m.exec(info)?.[1] ?? "";
  }

  /** Runs `args` on every node and returns the replies in node order. */
  onEach(args: string[]): Promise<unknown[]> {
    return Promise.all(this.nodes.map((_, i) => this.admin(i).sendCommand(args)));
  }

  /** Runs `args` on every node that is running (not killed). */
  onLive(args: string[]): Promise<unknown[]> {
    const live = this.nodes.filter((node) => node.admin?.isReady);
    return Promise.all(live.map((node) => node.admin?.sendCommand(args)));
  }

  /** The index of the node that serves `key`'s slot now (`CLUSTER KEYSLOT`, `CLUSTER SLOTS`). */
  async nodeOf(key: string): Promise<number> {
    const admin = this.admin(0);
    const slot = Number(await admin.sendCommand(["CLUSTER", "KEYSLOT", key]));
    const ranges = (await admin.sendCommand(["CLUSTER", "SLOTS"])) as unknown[][];
    for (const [from, to, primary] of ranges) {
      if (slot < Number(from) || slot > Number(to)) continue;
      const port = Number((primary as unknown[])[1]);
      const index = this.nodes.findIndex((node) => node.port === port);
      if (index >= 0) return index;
    }
    throw new Error(`no node serves slot ${slot}`);
  }

  /** SIGKILLs node `index`, as a crash: its clients see their connections drop. */
  async kill(index: number): Promise<void> {
    const node = this.node(index);
    node.admin?.destroy();
    node.admin = undefined;
    await stopChild(node.child);
    node.child = undefined;
  }

  /** Starts node `index` again from its saved cluster config and waits for `cluster_state:ok`. */
  async restart(index: number): Promise<void> {
    await this.up(this.node(index));
    await this.waitOk();
  }

  /** Waits until every node reports `cluster_state:ok` with all slots assigned. */
  async waitOk(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const infos = await this.onEach(["CLUSTER", "INFO"]).catch(() => undefined);
        return (
          infos?.every(
            (info) =>
              /^cluster_state:ok\b/m.test(String(info)) &&
              /^cluster_slots_ok:16384\b/m.test(String(info)) &&
              new RegExp(`^cluster_known_nodes:${this.nodes.length}\\b`, "m").test(String(info)),
          ) ?? false
        );
      },
      "cluster_state:ok on every node",
      timeoutMs,
    );
  }

  /** Kills every node and removes their files; safe to call more than once. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.kill(i)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private node(index: number): ClusterNode {
    const node = this.nodes[index];
    if (!node) throw new Error(`no cluster node ${index}`);
    return node;
  }

  private async addNode(): Promise<ClusterNode> {
    // The cluster bus port is given too: port + 10000 may be past 65535 or taken.
    const [port = 0, busPort = 0] = await freePorts(2);
    const node: ClusterNode = { port, busPort, child: undefined, admin: undefined };
    this.nodes.push(node);
    await this.up(node);
    return node;
  }

  private async up(node: ClusterNode): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(node.port),
        "--cluster-port",
        String(node.busPort),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(this.dir, `nodes-${node.port}.conf`),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        // A new replica syncs at once rather than after the default 5 s.
        "--repl-diskless-sync-delay",
        "0",
        ...(this.options.nodeTimeoutMs
          ? ["--cluster-node-timeout", String(this.options.nodeTimeoutMs)]
          : []),
      ],
      { cwd: this.dir, stdio: "ignore" },
    );
    node.child = child;
    // A test run that dies without its after hooks must not leave servers behind.
    const kill = () => child.kill("SIGKILL");
    process.once("exit", kill);
    child.once("exit", () => process.off("exit", kill));
    const url = `redis://127.0.0.1:${node.port}`;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server on ${node.port} exited`);
        const admin: Admin = createClient({
          url,
          socket: { connectTimeout: 500, reconnectStrategy: false },
        });
        admin.on("error", () => {});
        try {
          await admin.connect();
          await admin.ping();
          node.admin = admin;
          return true;
        } catch {
          if (admin.isOpen) admin.destroy();
          return false;
        }
      },
      `redis-server on ${node.port} up`,
      10_000,
    );
  }
}

/** Whether both `redis-server` and `redis-cli` are on the PATH. */
export const redisClusterToolsInstalled = (): boolean =>
  spawnSync("redis-server", ["--version"]).status === 0 &&
  spawnSync("redis-cli", ["--version"]).status === 0;

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await Promise.race([exited, sleep(5000, undefined, { ref: false })]);
}

/** `count` distinct ports that were free a moment ago (all held open together while picked). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
      const address = server.address();
      ports.push(typeof address === "object" && address ? address.port : 0);
    }
    return ports;
  } finally {
    await Promise.all(
      servers.map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))),
    );
  }
}
