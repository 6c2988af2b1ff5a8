import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { graphError, hubSignature } from "../helpers/fake-instagram.js";
import { api, registerUser, type TestServer, type TestUser } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import {
  APP_SECRET,
  connectInstagram,
  conversations,
  instagramBody,
  messagesOf,
  openList,
  type Platforms,
  postInstagram,
  startFakes,
  startPlatformServer,
  VERIFY_TOKEN,
} from "./support.js";

describe("instagram webhook", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let account: { id: string; accountId: string; accessToken: string };

  before(async () => {
    fakes = await startFakes();
    server = await startPlatformServer(fakes);
    owner = await registerUser(server);
    account = await connectInstagram(server, owner);
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  const allContents = async () => {
    const out: unknown[] = [];
    for (const c of await conversations(server, owner)) {
      out.push(...(await messagesOf(server, owner, String(c.id))).map((m) => m.content));
    }
    return out;
  };

  describe("subscription check", () => {
    const verify = (query: string) => fetch(`${server.baseUrl}/api/webhooks/instagram/?${query}`);

    it("answers hub.challenge as text with the right verify token", async () => {
      const res = await verify(
        `hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${VERIFY_TOKEN}`,
      );
      assert.equal(res.status, 200);
      assert.match(String(res.headers.get("content-type")), /^text\/plain/);
      assert.equal(await res.text(), "1158201444");
      const bare = await fetch(
        `${server.baseUrl}/api/webhooks/instagram?hub.mode=subscribe&hub.challenge=42&hub.verify_token=${VERIFY_TOKEN}`,
      );
      assert.equal(await bare.text(), "42");
    });

    it("answers 403 to a wrong or missing token or mode", async () => {
      for (const query of [
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
        "hub.mode=subscribe&hub.challenge=1",
        `hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=${VERIFY_TOKEN}`,
        `hub.mode=subscribe&hub.challenge=1&hub.verify_token=${VERIFY_TOKEN}x`,
        "",
      ]) {
        const res = await verify(query);
        assert.equal(res.status, 403, query);
        assert.notEqual(await res.text(), "1");
      }
    });
  });

  it("refuses a missing, forged or other-key signature with 401 and stores nothing", async () => {
    const before = await allContents();
    const body = JSON.stringify(
      instagramBody(account.accountId, [{ sender: "6543210987654321", text: "forged" }]),
    );
    const tampered = body.replace("forged", "FORGED");
    for (const signature of [
      null,
      "",
      "sha256=",
      hubSignature(body, "another-secret"),
      hubSignature(tampered, APP_SECRET).replace("sha256=", "sha1="),
      hubSignature(body, APP_SECRET).slice(0, -2),
    ]) {
      const res = await postInstagram(server, body, signature);
      assert.equal(res.status, 401, String(signature));
      assert.equal(((await res.json()) as { code: string }).code, "unauthorized");
    }
    // A correct signature over different bytes than those sent.
    const res = await postInstagram(server, tampered, hubSignature(body, APP_SECRET));
    assert.equal(res.status, 401);
    assert.deepEqual(await allContents(), before);
  });

  it("answers 400 to a signed body that is not JSON, 200 to one that is not an event", async () => {
    assert.equal((await postInstagram(server, "{oops")).status, 400);
    assert.equal((await postInstagram(server, { object: "page", entry: [] })).status, 200);
    assert.equal((await postInstagram(server, { hello: "world" })).status, 200);
  });

  it("stores a message once however often it is delivered, and fills in the profile", async () => {
    const igsid = "6543210987654321";
    fakes.instagram.profiles.set(igsid, {
      name: "Jane van Doe",
      username: "jane.doe",
      profile_pic: "https://scontent.cdninstagram.com/v/t51/jane.jpg",
    });
    const list = await openList(server, owner);
    const body = instagramBody(account.accountId, [
      { sender: igsid, mid: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE-1", text: "Is this in stock?" },
    ]);
    const results = await Promise.all([postInstagram(server, body), postInstagram(server, body)]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200],
    );
    assert.equal((await postInstagram(server, body)).status, 200);

    const news = await list.next("new_customer_message");
    const message = news.message as Record<string, unknown>;
    assert.equal(message.content, "Is this in stock?");
    assert.equal((message.customer as { source: string }).source, "instagram");
    await list.next("conversation_updated");
    const filled = await list.next("conversation_updated");
    const conv = filled.conversation as { title: string; customer: Record<string, unknown> };
    assert.equal(conv.title, "instagram - Jane van Doe");
    assert.deepEqual(
      { ...conv.customer, id: 0 },
      {
        id: 0,
        first_name: "Jane",
        last_name: "van Doe",
        username: "jane.doe",
        source: "instagram",
        profile_picture: "https://scontent.cdninstagram.com/v/t51/jane.jpg",
      },
    );
    assert.deepEqual(
      (await list.drain(200)).map((f) => f.type),
      [],
    );
    const profileCalls = fakes.instagram.callsOf("profile").filter((c) => c.path.endsWith(igsid));
    assert.equal(profileCalls.length, 1);
    assert.equal(profileCalls[0]?.authorization, `Bearer ${account.accessToken}`);
    assert.deepEqual(profileCalls[0]?.query, { fields: "name,username,profile_pic" });
    await list.close();
  });

  it("skips echoes and maps attachments, in order", async () => {
    const igsid = "7000000000000001";
    const list = await openList(server, owner);
    const body = instagramBody(account.accountId, [
      { sender: igsid, text: "our own reply", isEcho: true },
      {
        sender: igsid,
        attachments: [{ type: "image", payload: { url: "https://lookaside.fbsbx.com/x.jpg" } }],
      },
      { sender: igsid, text: "look at this", attachments: [{ type: "share" }] },
      { sender: igsid, attachments: [{ type: "audio" }, { type: "video" }] },
      { sender: igsid, text: "plain text" },
    ]);
    assert.equal((await postInstagram(server, body)).status, 200);
    const frames = await list.collect("new_customer_message", 4);
    const messages = frames.map(
      (f) => f.message as { content: string; attachments: Array<{ kind: string }> },
    );
    // Text as written; labels only without it; files become attachments, shares do not.
    assert.deepEqual(
      messages.map((m) => [m.content, m.attachments.map((a) => a.kind)]),
      [
        ["[photo]", ["photo"]],
        ["look at this", []],
        ["[audio] [video]", []],
        ["plain text", []],
      ],
    );
    const convId = String(frames[0]?.conversation_id);
    const stored = (await messagesOf(server, owner, convId)).map((m) => m.content);
    assert.ok(!stored.includes("our own reply"));
    await list.close();
  });

  it("ignores events for unknown accounts and malformed events next to good ones", async () => {
    const body = instagramBody("17841499999999999", [{ sender: "1", text: "not ours" }]);
    assert.equal((await postInstagram(server, body)).status, 200);
    const mixed = instagramBody(account.accountId, [{ sender: "7000000000000002", text: "good" }]);
    const messaging: unknown[] = mixed.entry[0]?.messaging ?? [];
    messaging.unshift(
      { sender: {}, message: "odd" },
      {
        sender: { id: "7000000000000002" },
        recipient: { id: account.accountId },
        read: { mid: "x" },
      },
    );
    assert.equal((await postInstagram(server, mixed)).status, 200);
    const contents = await allContents();
    assert.ok(contents.includes("good"));
    assert.ok(!contents.includes("not ours"));
  });

  it("keeps the conversation when the profile fetch fails", async () => {
    const igsid = "7000000000000003";
    fakes.instagram.script("profile", graphError(500, { message: "boom", code: 2 }));
    const body = instagramBody(account.accountId, [{ sender: igsid, text: "hello?" }]);
    assert.equal((await postInstagram(server, body)).status, 200);
    await fakes.instagram.waitForCalls("profile", 1);
    const conv = (await conversations(server, owner)).find(
      (c) => (c.last_message as { content: string } | null)?.content === "hello?",
    );
    assert.ok(conv);
    assert.equal(conv.title, "instagram -");
    assert.equal((conv.customer as { profile_picture: unknown }).profile_picture, null);
  });

  it("serves chat sockets of Instagram conversations like any other", async () => {
    const igsid = "7000000000000004";
    const body = instagramBody(account.accountId, [{ sender: igsid, text: "socket?" }]);
    await postInstagram(server, body);
    const conv = (await conversations(server, owner)).find(
      (c) => (c.last_message as { content: string } | null)?.content === "socket?",
    );
    assert.ok(conv);
    const chat = await WsClient.connect(
      `${server.wsUrl}/ws/chat/${String(conv.id)}/?token=${owner.access}`,
    );
    const recent = await chat.next("recent_messages");
    assert.deepEqual(
      (recent.messages as Array<{ content: string }>).map((m) => m.content),
      ["socket?"],
    );
    await chat.close();
    const res = await api(server, "GET", `/api/conversations/${String(conv.id)}/`, {
      token: owner.access,
    });
    assert.equal(res.body.source, "instagram");
  });
});
