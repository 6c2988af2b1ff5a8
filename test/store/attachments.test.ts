import assert from "node:assert/strict";
import { it } from "node:test";
import { NO_ATTACHMENT_FIELDS } from "../../src/domain/attachment-fields.js";
import type { InboundAttachment } from "../../src/domain/types.js";
import { describeStores, inbound, newChannel, newOwner } from "../helpers/stores.js";

// Attachment rows and download jobs on every store: written with their message, read back in
// order with every field, and leased like the outbox.

const NONE = NO_ATTACHMENT_FIELDS;

const photo: InboundAttachment = {
  ...NONE,
  kind: "photo",
  ref: { platform: "telegram", fileId: "AgAC-1" },
  mimeType: "image/jpeg",
  size: 3_000_000_000,
  width: 1280,
  height: 960,
};
const venue: InboundAttachment = {
  ...NONE,
  kind: "location",
  ref: null,
  latitude: 48.858370123,
  longitude: 2.294481456,
  title: "Eiffel Tower",
  address: "Champ de Mars",
};

describeStores("attachments", ({ store, sql }) => {
  it("stores a message's attachments in order, a job per file, and reads them back", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const { message } = await store().messages.ingest(
      inbound(channel, { content: "[photo]", attachments: [photo, venue] }),
    );
    const strip = ({ ref: _ref, ...fields }: InboundAttachment) => fields;
    assert.deepEqual(
      message.attachments.map(({ id: _id, ...rest }) => rest),
      [
        { ...strip(photo), state: "pending" },
        { ...strip(venue), state: "none" },
      ],
    );
    const [first, second] = message.attachments;
    assert.ok(first && second);
    const jobs = await sql("select attachment_id, channel_id from media_jobs");
    assert.deepEqual(jobs, [{ attachment_id: first.id, channel_id: channel.id }]);
    const record = await store().attachments.findById(first.id);
    assert.deepEqual(record?.ref, { platform: "telegram", fileId: "AgAC-1" });
    assert.equal(record?.ownerId, owner.id);
    assert.equal(record?.channelId, channel.id);

    // A message stored without media has none, and so does a page of older ones.
    const { message: plain } = await store().messages.ingest(inbound(channel, { content: "hi" }));
    assert.deepEqual(plain.attachments, []);
    const page = await store().messages.recent(message.conversationId, 10);
    assert.deepEqual(
      page.messages.map((m) => m.attachments.length),
      [2, 0],
    );
  });

  it("leases downloads, retries them, and ends them once when stored", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const { message } = await store().messages.ingest(
      inbound(channel, { content: "[photo]", attachments: [photo] }),
    );
    const id = message.attachments[0]?.id ?? "";
    const now = Date.now() + 1000;
    // The suite's store may hold the first test's job too: look for ours.
    const job = (await store().attachments.claimDue(now, 10, 60_000)).find(
      (j) => j.attachmentId === id,
    );
    assert.equal(job?.attempts, 0);
    assert.equal(job?.channelId, channel.id);
    // Leased: nobody else takes it.
    assert.deepEqual(await store().attachments.claimDue(now, 10, 60_000), []);
    await store().attachments.markRetry(job?.id ?? 0, now + 5000, "Telegram server error");
    assert.deepEqual(await store().attachments.claimDue(now, 10, 60_000), []);
    const [again] = await store().attachments.claimDue(now + 5000, 10, 60_000);
    assert.equal(again?.attempts, 1);

    const updated = await store().attachments.markStored(id, { size: 70, mimeType: "image/png" });
    assert.equal(updated?.attachments[0]?.state, "stored");
    assert.equal(updated?.attachments[0]?.mimeType, "image/png");
    assert.equal(updated?.attachments[0]?.size, 70);
    // A second finish (another process, an on-demand fetch) changes nothing and says so.
    assert.equal(
      await store().attachments.markStored(id, { size: 70, mimeType: "x/y" }),
      undefined,
    );
    assert.equal(await store().attachments.markUnavailable(id), undefined);
    assert.deepEqual(await sql("select id from media_jobs where attachment_id = ?", [id]), []);
  });
});
