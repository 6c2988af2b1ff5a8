// One event goes to every local socket of its conversation or owner. Sent as a string, the
// frame would be measured and encoded to UTF-8 again for each socket; encoded once here, every
// socket writes the same bytes.
const TEXT = { binary: false } as const;

/** A server frame shared by many sockets: its JSON text and that text's UTF-8 bytes. */
export class SharedFrame {
  readonly bytes: Buffer;

  constructor(readonly text: string) {
    this.bytes = Buffer.from(text, "utf8");
  }

  /** ws `send` options for `bytes`: a text frame, whatever the payload's type. */
  static readonly sendOptions = TEXT;
}
