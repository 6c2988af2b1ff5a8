import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

// SQLite in WAL mode copies the log back into the database file (a checkpoint) from inside the
// commit that crosses 1,000 pages, with two fsyncs. Done on the server's only thread, that
// stalled every socket and request for the length of the disk flush: in a fan-out profile,
// commits were a fifth of the busy time. Here the main connection never checkpoints; a worker
// thread with its own connection checkpoints a few times a second instead. PASSIVE checkpoints
// never wait for (or block) the writer, and once one has copied everything, the next commit
// starts the log over, so the log stays small.

const CHECKPOINT_INTERVAL_MS = 250;

// Plain CommonJS, evaluated in the worker: it needs no loader and no build step, and runs the
// same from source and from the compiled server.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const checkpoint = () => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage({ failed: err instanceof Error ? err.message : String(err) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface CheckpointLog {
  warn(obj: object, msg?: string): void;
}

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `path` from a worker thread. `fallBack` runs if the worker fails, so
 * that the connection checkpoints by itself again rather than letting the log grow.
 */
export function startCheckpointer(
  path: string,
  fallBack: () => void,
  log: CheckpointLog | undefined,
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, path, intervalMs: CHECKPOINT_INTERVAL_MS },
    // The loader hooks of the parent (tsx in development) are not needed by plain CommonJS.
    execArgv: [],
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.on("message", (message: { failed?: string }) => {
    log?.warn({ reason: message.failed }, "SQLite checkpoint failed; retrying");
  });
  worker.on("error", (err) => {
    log?.warn({ err }, "SQLite checkpoint thread failed; the connection checkpoints itself");
  });
  void exited.then(() => {
    if (!stopping) fallBack();
  });
  // A store left open must not keep the process alive (after the listeners: adding one refs).
  worker.unref();
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      // Waited for now: held, or the loop could end before the last checkpoint.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
