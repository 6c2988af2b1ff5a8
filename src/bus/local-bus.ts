import type { BusEvent } from "../domain/events.js";
import type { Bus, BusHandler, Unsubscribe } from "./bus.js";

/** In-process fan-out: the default when one process serves everything. */
export class LocalBus implements Bus {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  async publish(topic: string, event: BusEvent): Promise<void> {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const handler of [...set]) handler(event);
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe> {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(handler);
    return async () => {
      const current = this.handlers.get(topic);
      if (!current) return;
      current.delete(handler);
      if (current.size === 0) this.handlers.delete(topic);
    };
  }

  onResync(_listener: () => void): void {
    // One process never loses its own events.
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
