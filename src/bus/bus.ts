import type { BusEvent } from "../domain/events.js";

export type BusHandler = (event: BusEvent) => void;
export type Unsubscribe = () => Promise<void>;

// The fan-out port. `local-bus.ts` serves one process; `redis-bus.ts` serves many. Delivery is
// at most once and unordered across publishers: the gateway restores `seq` order and fetches
// what is missing from the store, so the bus never has to be reliable on its own.
export interface Bus {
  /** Called after the store committed, so a subscriber that re-reads the store finds the row. */
  publish(topic: string, event: BusEvent): Promise<void>;
  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe>;
  /**
   * Called after the bus lost its connection and got it back: events published meanwhile may
   * be lost, and subscribers should catch up from the store.
   */
  onResync(listener: () => void): void;
  /** Throws when the bus is not usable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
