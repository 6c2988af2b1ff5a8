import type { OutboxJob } from "../store.js";

// The sends this process queued itself, noted once their transaction committed. The delivery
// worker is woken right after each one; with these notes it claims the new rows by id instead of
// searching the table for due rows and then asking when the next one is due. The rows stay the
// truth: a note only says where to look, and a claim by id checks the same lease conditions as
// the search does.

/** More notes than this and nobody is taking them (no worker here): the search takes over. */
const MAX_NOTES = 256;

export class QueuedOutbox {
  private notes: OutboxJob[] = [];
  private overflowed = false;

  /** A job whose row is committed; `attempts` and `step` are the row's at the time of the claim. */
  note(job: OutboxJob): void {
    if (this.notes.length >= MAX_NOTES) {
      this.overflowed = true;
      return;
    }
    this.notes.push(job);
  }

  /**
   * Up to `limit` notes, oldest first, removed from the list. Undefined when there are none or
   * when some were dropped: then only a search of the table finds every queued row.
   */
  take(limit: number): OutboxJob[] | undefined {
    if (this.overflowed) {
      this.overflowed = false;
      this.notes = [];
      return undefined;
    }
    if (this.notes.length === 0) return undefined;
    return this.notes.splice(0, limit);
  }

  /** Rows a search claimed: their notes would only find them taken. */
  forget(ids: readonly number[]): void {
    if (this.notes.length === 0 || ids.length === 0) return;
    const claimed = new Set(ids);
    this.notes = this.notes.filter((job) => !claimed.has(job.id));
  }
}
