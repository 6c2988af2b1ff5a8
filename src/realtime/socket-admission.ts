import type { AbuseLimits } from "../limits/abuse-limits.js";

/**
 * The socket limits of one process: new sockets per user per minute and open sockets per user
 * (`WS_CONNECT_RATE_LIMIT`, `MAX_SOCKETS_PER_USER`). A socket admitted here gives its place back
 * when it closes, whichever way it closes.
 */
export class SocketAdmission {
  private readonly places = new Map<string, number>();

  constructor(private readonly limits: AbuseLimits) {}

  /** Throws `TooManyConnectionsError` (close 1008 `too_many_connections`) over either limit. */
  async admit(userId: number, socketId: string): Promise<void> {
    if (await this.limits.admitSocket(userId, socketId)) this.places.set(socketId, userId);
  }

  release(socketId: string): void {
    const userId = this.places.get(socketId);
    if (userId === undefined) return;
    this.places.delete(socketId);
    this.limits.sockets.remove(userId, socketId);
  }

  /** Sockets holding a place on this process (leak checks). */
  get size(): number {
    return this.places.size;
  }
}
