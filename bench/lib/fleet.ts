import WebSocket from "ws";
import { frameType } from "./frames.js";
import { inParallel } from "./stats.js";
import type { Target } from "./targets.js";
import type { Run, TrackedChat, TrackedList } from "./tracker.js";

export interface ChatSocket extends TrackedChat {
  readonly ws: WebSocket;
}

export interface ListSocket extends TrackedList {
  readonly ws: WebSocket;
}

export const asBuffer = (data: WebSocket.RawData): Buffer =>
  Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);

/**
 * Opens a socket and resolves once the server sent its greeting: `connection_established`,
 * then `ready` (`recent_messages` on a chat socket, `conversations_list` on a list socket).
 */
export function connect(
  url: string,
  ready: string,
  onFrame?: (data: Buffer) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let greeted = false;
    ws.on("message", (raw) => {
      const data = asBuffer(raw);
      if (!greeted) {
        if (frameType(data) === ready) {
          greeted = true;
          resolve(ws);
        }
        return;
      }
      onFrame?.(data);
    });
    ws.on("error", (err) => {
      if (!greeted) reject(err);
    });
    ws.on("close", (code) => {
      if (!greeted) reject(new Error(`socket closed with ${code} before ${ready}`));
    });
  });
}

/** The scenario's sockets: `perConversation` chat sockets on each conversation, plus list sockets. */
export class Fleet {
  readonly chats: ChatSocket[][] = [];
  readonly lists: ListSocket[] = [];
  run: Run | undefined;

  static async open(
    target: Target,
    options: { conversations: number; perConversation: number; lists: number },
  ): Promise<Fleet> {
    const fleet = new Fleet();
    const servers = target.servers.length;
    const total = options.conversations * options.perConversation;
    const opened = await inParallel(total, 50, async (index) => {
      const conversation = Math.floor(index / options.perConversation);
      const nth = index % options.perConversation;
      // Split each conversation's sockets evenly over the processes.
      const server = Math.floor((nth * servers) / options.perConversation);
      const record: TrackedChat = { conversation, server, seen: new Uint8Array(0), lastSeq: -1 };
      const ws = await connect(target.chatUrl(conversation, server), "recent_messages", (data) => {
        fleet.run?.chat(record, data, performance.now());
      });
      // The same object the frame handler holds, now with its socket.
      return Object.assign(record, { ws });
    });
    for (const socket of opened) {
      const list = fleet.chats[socket.conversation] ?? [];
      list.push(socket);
      fleet.chats[socket.conversation] = list;
    }
    for (let i = 0; i < options.lists; i++) {
      const server = i % servers;
      const socket: TrackedList = { server, seen: new Uint8Array(0) };
      const ws = await connect(target.listUrl(server), "conversations_list", (data) =>
        fleet.run?.list(socket, data),
      );
      fleet.lists.push(Object.assign(socket, { ws }));
    }
    return fleet;
  }

  /** Starts a window: fresh per-socket records. */
  begin(run: Run): void {
    for (const sockets of this.chats) {
      for (const socket of sockets) socket.seen = new Uint8Array(run.perConversation);
    }
    for (const socket of this.lists) socket.seen = new Uint8Array(run.count);
    this.run = run;
  }

  socketCount(): number {
    return this.chats.reduce((sum, list) => sum + list.length, 0);
  }

  async close(): Promise<void> {
    const all = [...this.chats.flat(), ...this.lists];
    await Promise.all(
      all.map(
        ({ ws }) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once("close", () => resolve());
            ws.close();
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 3000).unref();
          }),
      ),
    );
  }
}
