// The driver reads tens of thousands of frames a second on one core, so it does not parse
// them: every server frame starts with `{"type":"...` (Fiko's and the bare server's), and the
// bench's own messages carry their number in the content (`bench 123`).

const TYPE_PREFIX = Buffer.from('{"type":"');
const CONTENT = Buffer.from('"content":"bench ');
const SEQ = Buffer.from('"seq":');

/** The frame's `type`, read from its start; JSON-parsed when the frame is laid out otherwise. */
export function frameType(data: Buffer): string {
  if (
    data.length > TYPE_PREFIX.length &&
    data.compare(TYPE_PREFIX, 0, TYPE_PREFIX.length, 0, TYPE_PREFIX.length) === 0
  ) {
    const end = data.indexOf(0x22, TYPE_PREFIX.length);
    return data.toString("latin1", TYPE_PREFIX.length, end);
  }
  try {
    const parsed: unknown = JSON.parse(data.toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && "type" in parsed)
      return String(parsed.type);
  } catch {
    // not JSON: no type
  }
  return "";
}

/** The decimal number right after the first `marker`, or -1. */
function numberAfter(data: Buffer, marker: Buffer): number {
  const at = data.indexOf(marker);
  if (at < 0) return -1;
  let value = -1;
  for (let p = at + marker.length; p < data.length; p++) {
    const c = data[p];
    if (c === undefined || c < 48 || c > 57) break;
    value = (value < 0 ? 0 : value * 10) + c - 48;
  }
  return value;
}

/** The bench number of the message in a frame (`bench 123`), or -1 for other messages. */
export const benchNumber = (data: Buffer): number => numberAfter(data, CONTENT);

/** The frame's first `seq` (the message's, in `chat_message`), or -1. */
export const seqOf = (data: Buffer): number => numberAfter(data, SEQ);

export const benchText = (n: number): string => `bench ${n}`;
