import assert from "node:assert/strict";
import type { AttachmentView, MessageView } from "../../client/wire.js";
import type { AttachmentState } from "../../src/domain/types.js";
import type { TestServer, TestUser } from "../helpers/server.js";
import {
  conversations,
  eventually,
  messagesOf,
  type Platforms,
  postTelegram,
  privateMessage,
  type TelegramChannel,
  telegramUser,
} from "../platforms/support.js";

// Shared steps of the media suites: a customer sends a file through the fake Telegram, and the
// test waits until the download job has put its bytes in the file store.

let nextFile = 1;

/** A Telegram message carrying `bytes` as a document; resolves with the stored message. */
export async function customerSendsDocument(
  server: TestServer,
  fakes: Platforms,
  channel: TelegramChannel,
  owner: TestUser,
  bytes: Buffer,
  fileName: string,
  caption?: string,
): Promise<{ message: MessageView; attachment: AttachmentView; conversationId: string }> {
  const n = nextFile++;
  const fileId = `BQACAgI-${n}`;
  fakes.telegram.addFile(fileId, bytes);
  const from = telegramUser({ first_name: `Sender${n}`, last_name: "Files" });
  const res = await postTelegram(
    server,
    channel.id,
    channel.secret,
    privateMessage(from, {
      document: { file_id: fileId, file_unique_id: fileId, file_name: fileName },
      ...(caption === undefined ? {} : { caption }),
    } as never),
  );
  assert.equal(res.status, 200);
  const conversation = await eventually(async () =>
    (await conversations(server, owner)).find((c) => c.title === `telegram - Sender${n} Files`),
  );
  const conversationId = String(conversation.id);
  const [message] = (await messagesOf(server, owner, conversationId)) as unknown as MessageView[];
  assert.ok(message);
  const attachment = message.attachments[0];
  assert.ok(attachment);
  return { message, attachment, conversationId };
}

/** Waits until the attachment's bytes reached `state` (the download job's outcome). */
export function attachmentState(server: TestServer, id: string, state: AttachmentState) {
  return eventually(async () => {
    const record = await server.server.store.attachments.findById(id);
    return record?.attachment.state === state ? record : undefined;
  }, 10_000);
}

/** A GET of a server path, returning status, headers and the body's bytes. */
export async function fetchBytes(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(server.baseUrl + path, { headers });
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}
