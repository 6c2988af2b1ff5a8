import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { ApiError, MAX_CAPTION_LENGTH, type MessageView } from "../../client/index.js";
import {
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { closeClients, PASSWORD, sdkClient, waitFor, within } from "./support.js";

afterEach(closeClients);

// A 1x1 transparent PNG: real image bytes, so the server sniffs `image/png` and kind `photo`.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

describe("SDK file upload", () => {
  let server: TestServer;
  let user: TestUser;

  before(async () => {
    server = await startServer({ env: { MAX_UPLOAD_BYTES: "1024" } });
    user = await registerUser(server);
  });
  after(() => server.close());

  async function openChat() {
    const first = await ingest(server, user.id, "hello", { externalId: String(Date.now()) });
    const client = sdkClient(server);
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    await waitFor(chat, (s) => s.status === "open", "open");
    return { client, chat, conversationId: first.conversation.id };
  }

  it("shows the file as pending with its progress, then the stored message once", async () => {
    const { client, chat } = await openChat();
    const progress: number[] = [];
    const pendingFiles: string[] = [];
    const unsubscribe = chat.subscribe(() => {
      const entry = chat.getSnapshot().pending[0];
      if (entry?.file) {
        pendingFiles.push(`${entry.file.name}:${entry.file.size}:${entry.content}`);
        progress.push(entry.file.progress);
      }
    });
    const blob = new Blob([PNG], { type: "image/png" });
    const stored = await within(
      chat.sendFile(blob, { name: "dot.png", caption: " Look " }),
      "upload",
    );
    unsubscribe();

    assert.equal(pendingFiles[0], `dot.png:${PNG.length}:Look`);
    assert.equal(progress[0], 0);
    // Progress only grows and stays a share; the stored copy may arrive on the socket (ending
    // the entry) before the upload's own answer reports the last step.
    assert.ok(
      progress.every((p, i) => p >= 0 && p <= 1 && p >= (progress[i - 1] ?? 0)),
      `${progress}`,
    );
    assert.equal(stored.content, "Look");
    assert.equal(stored.type, "support");
    assert.equal(stored.delivery_status, "pending");
    assert.equal(stored.attachments?.length, 1);
    const [attachment] = stored.attachments ?? [];
    assert.equal(attachment?.kind, "photo");
    assert.equal(attachment?.mime_type, "image/png");
    assert.equal(attachment?.size, PNG.length);
    assert.equal(attachment?.file_name, "dot.png");
    assert.match(attachment?.url ?? "", /^\/api\/attachments\/[^/]+\/\?exp=\d+&sig=/);

    const state = await waitFor(
      chat,
      (s) => s.pending.length === 0 && s.messages.some((m) => m.id === stored.id),
      "the stored message in the log",
    );
    assert.deepEqual(
      state.messages.map((m) => m.seq),
      [1, 2],
    );
    // The link works without a token, as an <img src> would use it.
    const bytes = await fetch(client.absoluteUrl(attachment?.url ?? ""));
    assert.equal(bytes.status, 200);
    assert.equal(bytes.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), PNG);
  });

  it("stores a file once when the same client_id is uploaded again", async () => {
    const { client, conversationId } = await openChat();
    const file = { blob: new Blob([PNG], { type: "image/png" }), name: "again.png" };
    const first = await client.api.sendFile(conversationId, file, { client_id: "c-file-1" });
    const second = await client.api.sendFile(conversationId, file, { client_id: "c-file-1" });
    assert.equal(second.id, first.id);
    assert.equal(second.attachments?.[0]?.id, first.attachments?.[0]?.id);
    const page = await client.api.getMessages(conversationId);
    assert.equal(page.messages.filter((m: MessageView) => m.client_id === "c-file-1").length, 1);
  });

  it("shows an over-limit file as failed with the server's reason, storing nothing", async () => {
    const { client, chat, conversationId } = await openChat();
    const big = new Blob([PNG, Buffer.alloc(2048)], { type: "image/png" });
    const refused = await chat.sendFile(big, { name: "big.png" }).catch((err: unknown) => err);
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.status, 413);
    assert.equal(refused.code, "too_large");
    const [entry] = chat.getSnapshot().pending;
    assert.equal(entry?.state, "failed");
    assert.equal(entry?.error, refused.message);
    const page = await client.api.getMessages(conversationId);
    assert.deepEqual(
      page.messages.map((m: MessageView) => m.content),
      ["hello"],
    );
  });

  it("refuses a caption over the server's 1024 characters before uploading", async () => {
    const { chat } = await openChat();
    const blob = new Blob([PNG], { type: "image/png" });
    const refused = await chat
      .sendFile(blob, { name: "dot.png", caption: "x".repeat(MAX_CAPTION_LENGTH + 1) })
      .catch((e: unknown) => e);
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.code, "invalid_message");
    assert.equal(chat.getSnapshot().pending.length, 0);
  });

  it("refuses an empty file before uploading", async () => {
    const { chat } = await openChat();
    const refused = await chat
      .sendFile(new Blob([]), { name: "empty.txt" })
      .catch((e: unknown) => e);
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.code, "empty_file");
    assert.equal(chat.getSnapshot().pending.length, 0);
  });
});
