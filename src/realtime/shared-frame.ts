import type { WebSocket } from "ws";

// One event goes to every local socket of its conversation or owner. Sent as a string, the
// frame would be measured, encoded to UTF-8 and framed again for each socket, and written as two
// buffers (header and payload). Here it is encoded and framed once; every socket writes the
// same finished bytes.

const TEXT = { binary: false } as const;

/** A server frame shared by many sockets: its JSON text and its bytes on the wire. */
export class SharedFrame {
  /** The whole WebSocket frame (RFC 6455 section 5.2): final, unmasked, opcode text. */
  readonly wire: Buffer;
  private readonly payloadOffset: number;

  constructor(readonly text: string) {
    const length = Buffer.byteLength(text, "utf8");
    this.payloadOffset = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const wire = Buffer.allocUnsafe(this.payloadOffset + length);
    wire[0] = 0x81; // FIN + text
    if (length < 126) {
      wire[1] = length;
    } else if (length < 65_536) {
      wire[1] = 126;
      wire.writeUInt16BE(length, 2);
    } else {
      wire[1] = 127;
      wire.writeBigUInt64BE(BigInt(length), 2);
    }
    wire.write(text, this.payloadOffset, "utf8");
    this.wire = wire;
  }

  /** The UTF-8 payload alone (a view of `wire`). */
  get bytes(): Buffer {
    return this.wire.subarray(this.payloadOffset);
  }

  /** ws `send` options for `bytes`: a text frame, whatever the payload's type. */
  static readonly sendOptions = TEXT;
}

/** The parts of a `ws` socket that its typings leave out. */
interface SocketInternals {
  _socket?: { writable: boolean; write(bytes: Buffer): boolean };
}

/**
 * The connection under `socket`, where a finished frame may be written as is: only without
 * extensions (permessage-deflate would have ws compress and possibly queue frames; we never
 * negotiate it). `ws` writes every frame synchronously to this same stream, so frames written
 * here and frames `ws` writes (pings, closes, answers) keep their order.
 */
export function frameStream(socket: WebSocket): SocketInternals["_socket"] {
  if (socket.extensions !== "") return undefined;
  const stream = (socket as unknown as SocketInternals)._socket;
  return stream?.writable ? stream : undefined;
}
