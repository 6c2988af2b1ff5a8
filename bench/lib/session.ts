import { Fleet } from "./fleet.js";
import type { Options } from "./options.js";
import { startBare, startFiko, type Target } from "./targets.js";

export type Kind = "bare" | "fiko";

/** Starts the kind's server (one process, SQLite for Fiko), runs `use`, always cleans up. */
export async function withTarget<T>(
  options: Options,
  kind: Kind,
  use: (target: Target) => Promise<T>,
): Promise<T> {
  const choice = { core: options.serverCore, dist: options.dist, root: options.serverRoot };
  const target =
    kind === "bare"
      ? await startBare(choice, options.conversations)
      : await startFiko(choice, options.conversations);
  try {
    return await use(target);
  } finally {
    await target.close();
  }
}

/** The topology: `perConversation` chat sockets on every conversation and one list socket. */
export async function withFleet<T>(
  target: Target,
  options: Options,
  use: (fleet: Fleet) => Promise<T>,
): Promise<T> {
  const fleet = await Fleet.open(target, {
    conversations: options.conversations,
    perConversation: options.perConversation,
    lists: 1,
  });
  try {
    return await use(fleet);
  } finally {
    await fleet.close();
  }
}

export type Log = (line: string) => void;
