import { STATUS_LABELS } from "../lib/format.js";
import type { ConversationStatus } from "../sdk.js";

const STATUSES = Object.keys(STATUS_LABELS) as ConversationStatus[];

/** One `<option>` per conversation status, labelled as people read it. */
export function StatusOptions() {
  return (
    <>
      {STATUSES.map((status) => (
        <option key={status} value={status}>
          {STATUS_LABELS[status]}
        </option>
      ))}
    </>
  );
}
