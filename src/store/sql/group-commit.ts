// Group commit: writes that arrive while earlier ones are being stored wait and are then stored
// together, in one transaction. A lone write starts at once (no timer, no added delay); under
// load the batches grow by themselves, and each commit (a WAL write on SQLite, a WAL flush on
// PostgreSQL) serves many writes instead of one.
//
// A synchronous database (better-sqlite3) stores a write before the event loop reads the next
// request, so nothing ever arrives "meanwhile" and every write would commit alone. There the
// first write waits for the end of the current round of I/O callbacks (`setImmediate`): the
// requests read in the same round, which a loaded server has many of, share its transaction.

interface Pending<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions<I, R> {
  /**
   * Stores `items`: one outcome per item, in the same order. Throws only when none was stored
   * (the batch's transaction rolled back); each item is then stored alone.
   */
  runBatch: (items: I[]) => Promise<PromiseSettledResult<R>[]>;
  /** Stores one item in a transaction of its own. */
  runOne: (item: I) => Promise<R>;
  /** Most items in one transaction. */
  maxBatch: number;
  /** Batches in flight at once (1 where the database has a single writer). */
  concurrency: number;
  /**
   * Whether an idle queue waits for the current round of I/O callbacks before it starts, so
   * that the writes submitted in that round form one batch (for a synchronous database).
   */
  gatherRound?: boolean;
}

export class GroupCommit<I, R> {
  private readonly queue: Pending<I, R>[] = [];
  private running = 0;
  private gathering = false;

  constructor(private readonly options: GroupCommitOptions<I, R>) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running >= this.options.concurrency) return;
      if (!this.options.gatherRound) {
        void this.drain();
      } else if (!this.gathering) {
        this.gathering = true;
        setImmediate(() => {
          this.gathering = false;
          if (this.running < this.options.concurrency) void this.drain();
        });
      }
    });
  }

  private async drain(): Promise<void> {
    this.running++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        await this.store(batch);
      }
    } finally {
      this.running--;
    }
  }

  private async store(batch: Pending<I, R>[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      if (only) await this.options.runOne(only.item).then(only.resolve, only.reject);
      return;
    }
    let outcomes: PromiseSettledResult<R>[];
    try {
      outcomes = await this.options.runBatch(batch.map((p) => p.item));
    } catch {
      // One write failing (or the commit) rolled the whole batch back: each write is retried in
      // a transaction of its own, so that only the failing one fails and the others are stored.
      // A batch that stored some of its writes reports the others' failures as outcomes instead.
      for (const pending of batch) {
        await this.options.runOne(pending.item).then(pending.resolve, pending.reject);
      }
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) pending.reject(new Error("Group commit lost a result"));
      else if (outcome.status === "fulfilled") pending.resolve(outcome.value);
      else pending.reject(outcome.reason);
    });
  }
}

/** `promise`'s outcome, as a batch reports it for one item. */
export function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: "fulfilled", value }),
    (reason: unknown) => ({ status: "rejected", reason }),
  );
}
