import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import type { User } from "../domain/types.js";
import { AppError } from "../errors.js";
import type { Metrics, SocketKind } from "../metrics/metrics.js";
import { Close, closeCodeFor, closeReasonFor } from "./close-codes.js";
import type { FrameRateLimit } from "./frame-rate-limit.js";
import type { Gateway } from "./gateway.js";
import { errorFrame } from "./protocol.js";
import type { SocketAdmission } from "./socket-admission.js";
import { type MemberOptions, SocketMember } from "./socket-member.js";

export interface Session {
  user: User;
  /** Access token expiry (epoch ms): the socket closes with 4001 then. */
  expiresAt: number;
}

/**
 * The life of one socket, for both socket kinds: the handshake (`open`) runs first; frames that
 * arrive meanwhile wait, and every frame is handled after the previous one finished, so a
 * client's messages are stored in the order it sent them. Errors become error frames or close
 * codes here and nowhere else.
 *
 * Returns the handshake: settled once the socket is refused, or live with its snapshot sent.
 *
 * What an idle socket holds is what its closures below capture, so they take only the fields
 * they use: never the options object, whose `open` may hold the token and the parsed URL.
 */
export function serveSocket<S extends Session>(options: {
  socket: WebSocket;
  kind: SocketKind;
  gateway: Gateway;
  rateLimit: FrameRateLimit;
  admission: SocketAdmission | undefined;
  metrics: Metrics | undefined;
  /** Shared by every socket of the server. */
  memberOptions: MemberOptions;
  log: Logger;
  /**
   * Fields added to this socket's log lines. Given per line rather than as a child logger:
   * a child per socket cost memory on every idle socket for lines that are rarely written.
   */
  logContext?: Record<string, unknown>;
  open: (member: SocketMember) => Promise<S>;
  onFrame: (session: S, member: SocketMember, text: string) => Promise<void>;
  onClose: (session: S, member: SocketMember) => void;
}): Promise<void> {
  const { socket, kind, gateway, rateLimit, admission, log, metrics, onFrame, onClose } = options;
  const context = options.logContext ?? {};
  const member = new SocketMember(socket, options.memberOptions);
  gateway.track(member);
  let session: S | undefined;
  // Counted open only once the handshake finished on a socket that is still open, so the gauge
  // comes back to its value whichever of "open" and "close" happens first.
  let counted = false;

  const handshake: Promise<void> = options.open(member).then(
    (opened) => {
      session = opened;
      if (socket.readyState !== socket.OPEN) return;
      counted = true;
      metrics?.socketOpened(kind);
      gateway.expireAt(member, opened.expiresAt);
    },
    (err: unknown) => {
      const code = closeCodeFor(err);
      if (code === Close.Internal) log.error({ ...context, err }, "socket handshake failed");
      else
        log.debug(
          { ...context, code, reason: err instanceof Error ? err.message : "" },
          "socket refused",
        );
      member.close(code, closeReasonFor(err, code));
    },
  );
  let chain = handshake;

  const handle = async (data: RawData, isBinary: boolean) => {
    if (!session || socket.readyState !== socket.OPEN) return;
    const verdict = await rateLimit.check(member.id);
    if (verdict !== "ok") metrics?.frameReceived("invalid");
    if (verdict === "abusive") return member.close(Close.Policy);
    if (verdict === "limited") {
      member.send(errorFrame({ code: "rate_limited", error: "Too many frames: slow down" }));
      return;
    }
    if (isBinary) {
      metrics?.frameReceived("invalid");
      member.send(
        errorFrame({ code: "invalid_message", error: "Binary frames are not supported" }),
      );
      return;
    }
    try {
      await onFrame(session, member, rawText(data));
    } catch (err) {
      if (err instanceof AppError && err.status < 500) {
        member.send(errorFrame({ code: "invalid_message", error: err.message }));
      } else {
        log.error({ ...context, err }, "socket frame failed");
        member.send(errorFrame({ code: "internal_error", error: "Internal error" }));
      }
    }
  };

  socket.on("message", (data, isBinary) => {
    chain = chain.then(() => handle(data, isBinary));
  });
  socket.on("error", (err) => log.debug({ ...context, err }, "socket error"));
  socket.once("close", (code) => {
    gateway.untrack(member);
    metrics?.socketClosed(counted ? kind : undefined, member.closedWith ?? code);
    // Wait for the handshake so that a socket closed mid-join still leaves its groups and gives
    // back its place in the user's socket count.
    void chain.then(() => {
      admission?.release(member.id);
      if (session) onClose(session, member);
    });
  });
  return handshake;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}
