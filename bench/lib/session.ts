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

/** A server with its fleet. */
export interface Side {
  target: Target;
  fleet: Fleet;
}

/**
 * Both servers at once, each with its fleet and warmed up by `warm`: for windows taken in
 * turns (`inTurns`). The server not being measured is idle meanwhile.
 */
export async function withBothFleets<T>(
  options: Options,
  warm: (side: Side) => Promise<void>,
  use: (sides: Record<Kind, Side>) => Promise<T>,
): Promise<T> {
  const open = (kind: Kind, next: (side: Side) => Promise<T>) =>
    withTarget(options, kind, (target) =>
      withFleet(target, options, async (fleet) => {
        await warm({ target, fleet });
        return next({ target, fleet });
      }),
    );
  return open("bare", (bare) => open("fiko", (fiko) => use({ bare, fiko })));
}

/** The log of one round of `inTurns`: the uncounted round's lines say so. */
export const roundLog =
  (log: Log, counted: boolean): Log =>
  (line) =>
    log(counted ? line : `${line} (not counted)`);

/**
 * `rounds` rounds of `run` for each server, in the order bare, Fiko, Fiko, bare, bare, ...:
 * this machine's speed drifts over minutes, and one window per server, a minute apart,
 * measured the drift as much as the servers. In this order a steady drift falls on both alike.
 *
 * A first round runs before them and is not counted (`counted` false): the first window
 * after the warm-ups was both servers' slowest in every connect and fan-out run, the bare
 * server's most (it goes first), also after a full round of warm-up or 3 s of quiet.
 */
export async function inTurns<T>(
  rounds: number,
  run: (kind: Kind, counted: boolean) => Promise<T>,
): Promise<Record<Kind, T[]>> {
  for (const kind of ["bare", "fiko"] as const) await run(kind, false);
  const results: Record<Kind, T[]> = { bare: [], fiko: [] };
  for (let i = 0; i < rounds; i++) {
    const order: Kind[] = i % 2 === 0 ? ["fiko", "bare"] : ["bare", "fiko"];
    for (const kind of order) results[kind].push(await run(kind, true));
  }
  return results;
}
