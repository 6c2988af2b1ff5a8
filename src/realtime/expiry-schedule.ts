/** Something that must end at `expiresAt` (epoch ms); `expiryIndex` is the schedule's own. */
export interface Expiring {
  expiresAt: number;
  expiryIndex: number;
  expire(): void;
}

// setTimeout cannot wait longer than this; a longer wait is re-armed when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;
const UNSCHEDULED = -1;

/**
 * Ends every item at its time with one timer for all of them: a timer per socket cost memory on
 * every idle socket and a timer object per connect. A binary heap ordered by `expiresAt`; each
 * item keeps its position, so one that ends earlier (a socket that closed) leaves at once
 * instead of staying referenced until its time.
 */
export class ExpirySchedule {
  private readonly heap: Expiring[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires; Infinity when none is armed. */
  private armedFor = Number.POSITIVE_INFINITY;

  get size(): number {
    return this.heap.length;
  }

  add(item: Expiring): void {
    if (item.expiresAt <= Date.now()) {
      item.expiryIndex = UNSCHEDULED;
      item.expire();
      return;
    }
    item.expiryIndex = this.heap.length;
    this.heap.push(item);
    this.up(item.expiryIndex);
    if (item.expiresAt < this.armedFor) this.arm();
  }

  remove(item: Expiring): void {
    const index = item.expiryIndex;
    if (index === UNSCHEDULED || this.heap[index] !== item) return;
    item.expiryIndex = UNSCHEDULED;
    const last = this.heap.pop();
    if (last !== undefined && last !== item) {
      this.heap[index] = last;
      last.expiryIndex = index;
      this.down(index);
      this.up(last.expiryIndex);
    }
    // The timer stays for the next item (it fires early and re-arms), unless none is left.
    if (this.heap.length === 0) this.disarm();
  }

  /** Ends nothing more (the process is stopping). */
  stop(): void {
    for (const item of this.heap) item.expiryIndex = UNSCHEDULED;
    this.heap.length = 0;
    this.disarm();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (let first = this.heap[0]; first !== undefined && first.expiresAt <= now; ) {
      this.remove(first);
      first.expire();
      first = this.heap[0];
    }
    if (this.heap.length > 0) this.arm();
  }

  private arm(): void {
    const first = this.heap[0];
    if (first === undefined) return;
    clearTimeout(this.timer);
    this.armedFor = first.expiresAt;
    const wait = Math.min(Math.max(first.expiresAt - Date.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private up(start: number): void {
    const { heap } = this;
    let index = start;
    const item = heap[index];
    if (item === undefined) return;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent === undefined || parent.expiresAt <= item.expiresAt) break;
      heap[index] = parent;
      parent.expiryIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.expiryIndex = index;
  }

  private down(start: number): void {
    const { heap } = this;
    let index = start;
    const item = heap[index];
    if (item === undefined) return;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      let smallestAt = item.expiresAt;
      const l = heap[left];
      if (l !== undefined && l.expiresAt < smallestAt) {
        smallest = left;
        smallestAt = l.expiresAt;
      }
      const r = heap[right];
      if (r !== undefined && r.expiresAt < smallestAt) smallest = right;
      if (smallest === index) break;
      const child = heap[smallest];
      if (child === undefined) break;
      heap[index] = child;
      child.expiryIndex = index;
      index = smallest;
    }
    heap[index] = item;
    item.expiryIndex = index;
  }
}
