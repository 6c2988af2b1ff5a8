import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

export type RateVerdict = "ok" | "limited" | "abusive";

const WINDOW_SECONDS = 10;
// Past this multiple of the limit within one window the client is not merely eager: it ignores
// the error frames, and the socket is closed (1008).
const ABUSE_FACTOR = 2;

/** Frames per socket per 10 seconds; 0 turns the limit off. */
export class FrameRateLimit {
  private readonly limiter: RateLimiterMemory | undefined;

  constructor(private readonly framesPerWindow: number) {
    this.limiter =
      framesPerWindow > 0
        ? new RateLimiterMemory({ points: framesPerWindow, duration: WINDOW_SECONDS })
        : undefined;
  }

  async check(socketId: string): Promise<RateVerdict> {
    if (!this.limiter) return "ok";
    try {
      await this.limiter.consume(socketId);
      return "ok";
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return rejection.consumedPoints > this.framesPerWindow * ABUSE_FACTOR ? "abusive" : "limited";
    }
  }
}
