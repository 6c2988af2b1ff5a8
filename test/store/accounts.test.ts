import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it, test } from "node:test";
import { ConflictError } from "../../src/errors.js";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import {
  describeStores,
  freshPostgres,
  inbound,
  newChannel,
  newOwner,
  unique,
} from "../helpers/stores.js";

// Migrations, users and channels: the records everything else hangs on.

test("sqlite store creates a missing parent directory and reopens its file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fiko-store-"));
  const path = join(dir, "nested", "deeper", "fiko.sqlite");
  try {
    const first = await createSqlStore({ sqlitePath: path });
    await first.migrate();
    const user = await first.users.create({
      username: "kept",
      passwordHash: "h",
      firstName: "",
      lastName: "",
    });
    await first.close();

    const second = await createSqlStore({ sqlitePath: path });
    await second.migrate();
    assert.equal((await second.users.findByUsername("kept"))?.id, user.id);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sqlite store works in memory", async () => {
  const store = await createSqlStore({ sqlitePath: ":memory:" });
  await store.migrate();
  await store.migrate();
  const user = await store.users.create({
    username: "m",
    passwordHash: "h",
    firstName: "",
    lastName: "",
  });
  assert.equal((await store.users.findById(user.id))?.username, "m");
  await store.close();
});

describeStores("migrations and accounts", ({ store, kind }) => {
  it("migrates again without error and answers ping", async () => {
    await store().migrate();
    await store().migrate();
    await store().ping();
  });

  it("creates users and finds them by name and id", async () => {
    const username = unique("agent");
    const user = await store().users.create({
      username,
      passwordHash: "scrypt$abc",
      firstName: "Ada",
      lastName: "Lovelace",
    });
    assert.ok(Number.isInteger(user.id) && user.id > 0);
    assert.equal(typeof user.createdAt, "number");
    assert.ok(Math.abs(user.createdAt - Date.now()) < 5000);
    assert.deepEqual(await store().users.findById(user.id), user);
    assert.deepEqual(await store().users.findByUsername(username), {
      ...user,
      passwordHash: "scrypt$abc",
    });
    assert.equal(await store().users.findByUsername(unique("nobody")), undefined);
    assert.equal(await store().users.findById(999_999), undefined);
  });

  it("rejects a taken username with ConflictError", async () => {
    const username = unique("dup");
    const user = { username, passwordHash: "h", firstName: "A", lastName: "B" };
    await store().users.create(user);
    await assert.rejects(store().users.create(user), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.equal(error.status, 409);
      return true;
    });
  });

  it("stores channels with credentials and poll offsets", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    assert.match(channel.id, /^ch_[A-Za-z0-9_-]+$/);
    assert.deepEqual(channel.credentials, {
      botToken: "123:secret-token",
      secretToken: "hook-secret",
    });
    assert.equal(channel.pollOffset, 0);
    assert.deepEqual(await store().channels.findById(channel.id), channel);
    assert.deepEqual(
      await store().channels.findByExternalId("telegram", channel.externalId),
      channel,
    );
    assert.equal(
      await store().channels.findByExternalId("instagram", channel.externalId),
      undefined,
    );

    await store().channels.setPollOffset(channel.id, 9_007_199_254);
    assert.equal((await store().channels.findById(channel.id))?.pollOffset, 9_007_199_254);

    const other = await newChannel(store(), owner.id, "instagram");
    const listed = await store().channels.listByOwner(owner.id);
    assert.deepEqual(listed.map((c) => c.id).sort(), [channel.id, other.id].sort());
    const allInstagram = await store().channels.listAll("instagram");
    assert.ok(allInstagram.some((c) => c.id === other.id));
    assert.ok(allInstagram.every((c) => c.platform === "instagram"));
  });

  it("rejects a platform account connected twice, without leaking secrets", async () => {
    const owner = await newOwner(store());
    const someoneElse = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    await assert.rejects(
      store().channels.create({
        ownerId: someoneElse.id,
        platform: "telegram",
        name: "again",
        externalId: channel.externalId,
        credentials: { botToken: "999:very-secret" },
        mode: "webhook",
      }),
      (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.doesNotMatch(error.message, /very-secret/);
        assert.equal(error.cause, undefined);
        return true;
      },
    );
    // The same external id on the other platform is a different account.
    const instagram = await store().channels.create({
      ownerId: owner.id,
      platform: "instagram",
      name: "ig",
      externalId: channel.externalId,
      credentials: { accessToken: "tok" },
      mode: "webhook",
    });
    assert.equal(instagram.platform, "instagram");
  });

  it("removes a channel only for its owner and keeps its conversations", async () => {
    const owner = await newOwner(store());
    const stranger = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const { conversation, message } = await store().messages.ingest(inbound(channel));

    assert.equal(await store().channels.remove(stranger.id, channel.id), false);
    assert.ok(await store().channels.findById(channel.id));
    assert.equal(await store().channels.remove(owner.id, channel.id), true);
    assert.equal(await store().channels.findById(channel.id), undefined);
    assert.equal(await store().channels.remove(owner.id, channel.id), false);

    const kept = await store().conversations.findById(conversation.id);
    assert.equal(kept?.channelId, null);
    assert.equal(kept?.lastMessage?.id, message.id);
    assert.equal((await store().messages.findById(message.id))?.content, "Hello");

    // Without a channel an outgoing message has nowhere to go: stored as sent, nothing queued.
    const reply = await store().messages.append({
      conversationId: conversation.id,
      type: "support",
      senderId: owner.id,
      content: "still here",
      clientId: null,
      deliver: true,
    });
    assert.equal(reply.message.deliveryStatus, "sent");
    assert.equal(reply.message.seq, 2);
  });

  // PostgreSQL only: two stores in sibling schemas of one database.
  if (kind === "postgres") {
    it("migrates stores in sibling schemas side by side", async () => {
      const [a, b] = await Promise.all([freshPostgres(), freshPostgres()]);
      assert.ok(a !== undefined && b !== undefined);
      const stores = await Promise.all(
        [a, b].map((p) => createSqlStore({ databaseUrl: p.databaseUrl, schema: p.schema })),
      );
      try {
        // One after the other, then concurrently: Kysely's bookkeeping tables must be looked
        // up in each store's own schema, not found in the sibling's.
        for (const s of stores) await s.migrate();
        await Promise.all(stores.map((s) => s.migrate()));
        for (const s of stores) {
          const user = await s.users.create({
            username: "same",
            passwordHash: "h",
            firstName: "",
            lastName: "",
          });
          assert.equal(user.id, 1);
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await Promise.all([a.drop(), b.drop()]);
      }
    });
  }
});
