import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ConversationView, MessageView } from "../../src/domain/views.js";
import {
  api,
  type CustomerSpec,
  ingest,
  listUrl,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import {
  CONVERSATION_KEYS,
  CUSTOMER_KEYS,
  ISO_MS,
  LAST_MESSAGE_KEYS,
  MESSAGE_KEYS,
  PAGE_KEYS,
} from "../helpers/wire.js";
import { WsClient } from "../helpers/ws-client.js";

// protocol.md section 8 (conversations over REST) with the objects of section 3.

interface Page {
  conversations: ConversationView[];
  has_more: boolean;
  next_cursor: string | null;
}
interface MessagePage {
  messages: MessageView[];
  has_more: boolean;
}

/** Conversation times are in milliseconds: wait so that consecutive writes never tie. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

function assertError(res: { status: number; body: unknown }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body as object).sort(), ["code", "error"]);
  assert.equal((res.body as { code: string }).code, code);
}

function assertConversationShape(c: ConversationView): void {
  assert.deepEqual(Object.keys(c).sort(), CONVERSATION_KEYS);
  assert.deepEqual(Object.keys(c.customer).sort(), CUSTOMER_KEYS);
  assert.match(c.id, /^[A-Za-z0-9_-]{1,64}$/);
  assert.match(c.created_at, ISO_MS);
  assert.match(c.updated_at, ISO_MS);
  assert.ok(Number.isSafeInteger(c.customer.id) && c.customer.id > 0);
  if (c.last_message !== null) {
    assert.deepEqual(Object.keys(c.last_message).sort(), LAST_MESSAGE_KEYS);
    assert.match(c.last_message.created_at, ISO_MS);
  }
}

function assertMessageShape(m: MessageView): void {
  assert.deepEqual(Object.keys(m).sort(), MESSAGE_KEYS);
  assert.deepEqual(Object.keys(m.customer).sort(), CUSTOMER_KEYS);
  assert.match(m.created_at, ISO_MS);
}

describe("conversations over REST", () => {
  let server: TestServer;
  let agent: TestUser;

  before(async () => {
    server = await startServer();
    agent = await registerUser(server, "rest_agent");
  });
  after(() => server.close());

  const get = <T>(path: string, user: TestUser = agent) =>
    api<T>(server, "GET", path, { token: user.access });
  const getConversation = async (id: string) =>
    (await get<ConversationView>(`/api/conversations/${id}/`)).body;
  const getMessages = async (id: string, query = "") =>
    (await get<MessagePage>(`/api/conversations/${id}/messages/${query}`)).body;
  const post = <T>(path: string, body?: unknown, user: TestUser = agent) =>
    api<T>(server, "POST", path, { token: user.access, body });
  const patch = <T>(path: string, body?: unknown) =>
    api<T>(server, "PATCH", path, { token: agent.access, body });

  /** A conversation with `count` customer messages "m1".."mN" from one customer. */
  async function conversationWith(count: number, customer: CustomerSpec = {}) {
    const first = await ingest(server, agent.id, "m1", customer);
    for (let i = 2; i <= count; i++) {
      await ingest(server, agent.id, `m${i}`, customer, { channelId: first.channelId });
    }
    return { id: first.conversation.id, channelId: first.channelId };
  }

  it("answers 401 without a token, on every route", async () => {
    const { id } = await conversationWith(1);
    for (const [method, path] of [
      ["GET", "/api/conversations/"],
      ["GET", `/api/conversations/${id}/`],
      ["PATCH", `/api/conversations/${id}/`],
      ["GET", `/api/conversations/${id}/messages/`],
      ["POST", `/api/conversations/${id}/messages/`],
      ["POST", `/api/conversations/${id}/read/`],
    ] as const) {
      const body = method === "GET" ? undefined : { content: "x", status: "closed" };
      const res = await api(server, method, path, { body });
      assertError(res, 401, "unauthorized");
    }
  });

  describe("GET /api/conversations/{id}/", () => {
    it("answers the conversation object of section 3", async () => {
      const ingested = await ingest(server, agent.id, "Hello there", {
        externalId: "shape-1",
        firstName: "John",
        lastName: "Doe",
        username: "johnd",
      });
      const res = await get<ConversationView>(`/api/conversations/${ingested.conversation.id}/`);
      assert.equal(res.status, 200);
      const c = res.body;
      assertConversationShape(c);
      assert.deepEqual(
        { ...c, customer: { ...c.customer, id: 0 }, created_at: "", updated_at: "" },
        {
          id: ingested.conversation.id,
          title: "telegram - John Doe",
          status: "support_active",
          source: "telegram",
          customer: {
            id: 0,
            first_name: "John",
            last_name: "Doe",
            username: "johnd",
            source: "telegram",
            profile_picture: null,
          },
          priority: 1,
          created_at: "",
          updated_at: "",
          last_message: {
            id: ingested.message.id,
            content: "Hello there",
            type: "customer",
            created_at: c.last_message?.created_at ?? "",
          },
          unread_count: 1,
        },
      );
      assert.ok(c.updated_at >= c.created_at);
    });

    it("trims the title when a name is missing", async () => {
      const { conversation } = await ingest(server, agent.id, "hi", {
        externalId: "no-last-name",
        firstName: "Cher",
        lastName: "",
        username: null,
        source: "instagram",
      });
      const c = await getConversation(conversation.id);
      assert.equal(c.title, "instagram - Cher");
      assert.equal(c.source, "instagram");
      assert.equal(c.customer.username, null);
      assert.equal(c.customer.source, "instagram");
    });

    it("counts unread customer messages", async () => {
      const { id } = await conversationWith(3, { externalId: "unread-3" });
      const c = await getConversation(id);
      assert.equal(c.unread_count, 3);
      assert.equal(c.last_message?.content, "m3");
    });

    it("answers 404 for an unknown id, with or without the trailing slash", async () => {
      assertError(await get("/api/conversations/c_doesnotexist/"), 404, "not_found");
      assertError(await get("/api/conversations/c_doesnotexist"), 404, "not_found");
    });

    it("answers a malformed escape in the path with the JSON 400, without echoing the URL", async () => {
      const res = await get("/api/conversations/%zz/?token=do-not-echo");
      assertError(res, 400, "invalid");
      assert.ok(!JSON.stringify(res.body).includes("do-not-echo"));
    });

    it("works without the trailing slash", async () => {
      const { id } = await conversationWith(1);
      const res = await get<ConversationView>(`/api/conversations/${id}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.id, id);
    });
  });

  describe("GET /api/conversations/", () => {
    let lister: TestUser;
    /** Created oldest first: [telegram John Doe, instagram Maria Garcia, telegram Émile Smith]. */
    let ids: string[] = [];

    before(async () => {
      lister = await registerUser(server, "rest_lister");
      const specs: CustomerSpec[] = [
        { externalId: "l-1", firstName: "John", lastName: "Doe", username: "jd" },
        {
          externalId: "l-2",
          firstName: "Maria",
          lastName: "Garcia",
          username: "mg",
          source: "instagram",
        },
        { externalId: "l-3", firstName: "Emile", lastName: "SMITH", username: "em_100%" },
      ];
      ids = [];
      for (const spec of specs) {
        ids.push((await ingest(server, lister.id, "hello", spec)).conversation.id);
        await tick();
      }
    });

    const list = async (query = "") => {
      const res = await get<Page>(`/api/conversations/${query}`, lister);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), PAGE_KEYS);
      return res.body;
    };
    const idsOf = (page: Page) => page.conversations.map((c) => c.id);

    it("answers the page object, newest updated first", async () => {
      const page = await list();
      assert.deepEqual(idsOf(page), [...ids].reverse());
      assert.equal(page.has_more, false);
      assert.equal(page.next_cursor, null);
      for (const c of page.conversations) assertConversationShape(c);
    });

    it("answers an empty page to a user without conversations", async () => {
      const newcomer = await registerUser(server, "rest_newcomer");
      const res = await get<Page>("/api/conversations/", newcomer);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { conversations: [], has_more: false, next_cursor: null });
    });

    it("works without the trailing slash", async () => {
      const res = await get<Page>("/api/conversations", lister);
      assert.equal(res.status, 200);
      assert.equal(res.body.conversations.length, 3);
    });

    it("filters by source", async () => {
      assert.deepEqual(idsOf(await list("?source=instagram")), [ids[1]]);
      assert.deepEqual(idsOf(await list("?source=telegram")), [ids[2], ids[0]]);
    });

    it("searches title and customer names, case-insensitively", async () => {
      assert.deepEqual(idsOf(await list("?search=john")), [ids[0]]);
      assert.deepEqual(idsOf(await list("?search=GARCIA")), [ids[1]]);
      assert.deepEqual(idsOf(await list("?search=smith")), [ids[2]]);
      assert.deepEqual(idsOf(await list("?search=maRIA%20garc")), [ids[1]]);
      // The title is "{source} - {first} {last}".
      assert.deepEqual(idsOf(await list("?search=INSTAGRAM%20-")), [ids[1]]);
      assert.deepEqual(idsOf(await list("?search=GRAM")), [...ids].reverse());
      // Customer usernames count as names too.
      assert.deepEqual(idsOf(await list("?search=JD")), [ids[0]]);
      assert.deepEqual(idsOf(await list("?search=nobody")), []);
    });

    it("takes LIKE wildcards in a search literally", async () => {
      assert.deepEqual(idsOf(await list("?search=%25")), [ids[2]]);
      assert.deepEqual(idsOf(await list("?search=_")), [ids[2]]);
    });

    it("filters by status, alone and with other filters", async () => {
      assert.deepEqual(idsOf(await list("?status=closed")), []);
      const setStatus = (id: string | undefined, status: string) =>
        api(server, "PATCH", `/api/conversations/${id}/`, {
          token: lister.access,
          body: { status },
        });
      assert.equal((await setStatus(ids[0], "closed")).status, 200);
      try {
        assert.deepEqual(idsOf(await list("?status=closed")), [ids[0]]);
        assert.deepEqual(idsOf(await list("?status=closed&source=instagram")), []);
        assert.deepEqual(idsOf(await list("?status=closed&search=doe")), [ids[0]]);
        assert.equal((await list("?status=support_active")).conversations.length, 2);
      } finally {
        // The PATCH moved it to the top; put it back for the other tests.
        await setStatus(ids[0], "support_active");
        const moved = ids.shift();
        if (moved) ids.push(moved);
      }
    });

    it("pages with the cursor: each conversation once, newest updated first", async () => {
      const pager = await registerUser(server, "rest_pager");
      const created: string[] = [];
      for (let i = 0; i < 7; i++) {
        created.push(
          (await ingest(server, pager.id, `hi ${i}`, { externalId: `p-${i}` })).conversation.id,
        );
        await tick();
      }
      const seen: string[] = [];
      const pages: Page[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : "?limit=3";
        const res = await get<Page>(`/api/conversations/${query}`, pager);
        assert.equal(res.status, 200);
        pages.push(res.body);
        seen.push(...idsOf(res.body));
        cursor = res.body.next_cursor;
        assert.ok(pages.length <= 3, "paging must end");
      } while (cursor !== null);
      assert.deepEqual(
        pages.map((p) => [p.conversations.length, p.has_more, p.next_cursor === null]),
        [
          [3, true, false],
          [3, true, false],
          [1, false, true],
        ],
      );
      assert.deepEqual(seen, [...created].reverse());
      const updated = pages.flatMap((p) => p.conversations.map((c) => c.updated_at));
      assert.deepEqual(updated, [...updated].sort().reverse());
    });

    it("pages exactly at the end: a full last page has no next page", async () => {
      const page = await list("?limit=3");
      assert.equal(page.conversations.length, 3);
      assert.equal(page.has_more, false);
      assert.equal(page.next_cursor, null);
      const first = await list("?limit=2");
      assert.equal(first.has_more, true);
      const rest = await list(`?limit=2&cursor=${encodeURIComponent(first.next_cursor ?? "")}`);
      assert.deepEqual([...idsOf(first), ...idsOf(rest)], idsOf(page));
      assert.equal(rest.has_more, false);
    });

    it("pages with filters kept across pages", async () => {
      const first = await list("?source=telegram&limit=1");
      assert.equal(first.has_more, true);
      const second = await list(
        `?source=telegram&limit=1&cursor=${encodeURIComponent(first.next_cursor ?? "")}`,
      );
      assert.equal(second.has_more, false);
      assert.deepEqual([...idsOf(first), ...idsOf(second)], idsOf(await list("?source=telegram")));
    });

    it("accepts limits 1 and 100", async () => {
      assert.equal((await list("?limit=1")).conversations.length, 1);
      assert.equal((await list("?limit=100")).conversations.length, 3);
    });

    it("answers 400 for limits 0 and 101 and other bad parameters", async () => {
      for (const query of [
        "?limit=0",
        "?limit=101",
        "?limit=-1",
        "?limit=abc",
        "?limit=2.5",
        "?status=open",
        "?source=whatsapp",
        "?cursor=not-a-cursor",
        `?cursor=${Buffer.from('["x","y"]').toString("base64url")}`,
      ]) {
        assertError(await get(`/api/conversations/${query}`, lister), 400, "invalid");
      }
    });

    it("treats empty parameters as absent, as in ?status=&source=&search=&limit=&cursor=", async () => {
      const page = await list("?status=&source=&search=&limit=&cursor=");
      assert.equal(page.conversations.length, 3);
    });
  });

  describe("PATCH /api/conversations/{id}/", () => {
    it("changes status and priority and answers the updated object", async () => {
      const { id } = await conversationWith(1, { externalId: "patch-1" });
      const before = await getConversation(id);
      await tick();
      const res = await patch<ConversationView>(`/api/conversations/${id}/`, { status: "closed" });
      assert.equal(res.status, 200);
      assertConversationShape(res.body);
      assert.equal(res.body.status, "closed");
      assert.equal(res.body.priority, 1);
      assert.ok(
        res.body.updated_at > before.updated_at,
        `${res.body.updated_at} > ${before.updated_at}`,
      );
      assert.equal(res.body.created_at, before.created_at);
      assert.deepEqual(await getConversation(id), res.body);

      await tick();
      const both = await patch<ConversationView>(`/api/conversations/${id}`, {
        status: "marketing_active",
        priority: 5,
      });
      assert.equal(both.status, 200);
      assert.equal(both.body.status, "marketing_active");
      assert.equal(both.body.priority, 5);
      assert.ok(both.body.updated_at > res.body.updated_at);

      await tick();
      const priority = await patch<ConversationView>(`/api/conversations/${id}/`, { priority: 0 });
      assert.equal(priority.body.priority, 0);
      assert.equal(priority.body.status, "marketing_active");
      assert.ok(priority.body.updated_at > both.body.updated_at);
      assert.deepEqual(
        { ...priority.body, status: "", priority: 0, updated_at: "" },
        { ...before, status: "", priority: 0, updated_at: "" },
      );
    });

    it("pushes conversation_updated to the owner's list sockets", async () => {
      const { id } = await conversationWith(1, { externalId: "patch-push" });
      const socket = await WsClient.connect(listUrl(server, agent.access));
      try {
        await socket.next("connection_established");
        await socket.next("conversations_list");
        const res = await patch<ConversationView>(`/api/conversations/${id}/`, { priority: 3 });
        const frame = await socket.next("conversation_updated");
        assert.deepEqual(frame.conversation, res.body);
      } finally {
        await socket.close();
      }
    });

    it("answers 400 for a bad status, a bad priority or nothing to change", async () => {
      const { id } = await conversationWith(1, { externalId: "patch-bad" });
      const before = await getConversation(id);
      for (const body of [
        { status: "open" },
        { status: "" },
        { status: null },
        { priority: "high" },
        { priority: 1.5 },
        { priority: -1 },
        {},
        { title: "renamed" },
        [],
      ]) {
        assertError(await patch(`/api/conversations/${id}/`, body), 400, "invalid");
      }
      assertError(await patch(`/api/conversations/${id}/`), 400, "invalid");
      assertError(await patch(`/api/conversations/${id}/`, "{bad"), 400, "invalid_json");
      assert.deepEqual(await getConversation(id), before);
    });

    it("answers 404 for an unknown id", async () => {
      assertError(
        await patch("/api/conversations/c_nope/", { status: "closed" }),
        404,
        "not_found",
      );
    });
  });

  describe("GET /api/conversations/{id}/messages/", () => {
    let id: string;
    before(async () => {
      ({ id } = await conversationWith(5, { externalId: "history-5" }));
    });
    const seqs = (page: MessagePage) => page.messages.map((m) => m.seq);

    it("answers {messages, has_more}, oldest first", async () => {
      const res = await get<MessagePage>(`/api/conversations/${id}/messages/`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ["has_more", "messages"]);
      assert.deepEqual(seqs(res.body), [1, 2, 3, 4, 5]);
      assert.deepEqual(
        res.body.messages.map((m) => m.content),
        ["m1", "m2", "m3", "m4", "m5"],
      );
      assert.equal(res.body.has_more, false);
      for (const m of res.body.messages) {
        assertMessageShape(m);
        assert.equal(m.conversation_id, id);
        assert.equal(m.type, "customer");
        assert.equal(m.sender, null);
        assert.equal(m.is_ai_response, false);
        assert.equal(m.is_answered, false);
        assert.equal(m.delivery_status, "received");
        assert.equal(m.client_id, null);
      }
    });

    it("answers the newest `limit` without a position", async () => {
      const page = await getMessages(id, "?limit=2");
      assert.deepEqual(seqs(page), [4, 5]);
      assert.equal(page.has_more, true);
    });

    it("pages back with before_seq", async () => {
      const page = await getMessages(id, "?before_seq=4&limit=2");
      assert.deepEqual(seqs(page), [2, 3]);
      assert.equal(page.has_more, true);
      const last = await getMessages(id, "?before_seq=2&limit=2");
      assert.deepEqual(seqs(last), [1]);
      assert.equal(last.has_more, false);
      const exact = await getMessages(id, "?before_seq=3&limit=2");
      assert.deepEqual(seqs(exact), [1, 2]);
      assert.equal(exact.has_more, false);
    });

    it("resumes with after_seq", async () => {
      const page = await getMessages(id, "?after_seq=1&limit=2");
      assert.deepEqual(seqs(page), [2, 3]);
      assert.equal(page.has_more, true);
      const tail = await getMessages(id, "?after_seq=3");
      assert.deepEqual(seqs(tail), [4, 5]);
      assert.equal(tail.has_more, false);
      const none = await getMessages(id, "?after_seq=5");
      assert.deepEqual(none, { messages: [], has_more: false });
      const all = await getMessages(id, "?after_seq=0&limit=100");
      assert.deepEqual(seqs(all), [1, 2, 3, 4, 5]);
    });

    it("treats empty parameters as absent", async () => {
      const page = await getMessages(id, "?before_seq=&after_seq=&limit=");
      assert.deepEqual(seqs(page), [1, 2, 3, 4, 5]);
    });

    it("works without the trailing slash", async () => {
      const res = await get<MessagePage>(`/api/conversations/${id}/messages?limit=1`);
      assert.equal(res.status, 200);
      assert.deepEqual(seqs(res.body), [5]);
    });

    it("answers 400 for bad parameters", async () => {
      for (const query of [
        "?limit=0",
        "?limit=101",
        "?limit=x",
        "?before_seq=-1",
        "?before_seq=abc",
        "?after_seq=1.5",
      ]) {
        assertError(await get(`/api/conversations/${id}/messages/${query}`), 400, "invalid");
      }
    });

    it("answers 404 for an unknown conversation", async () => {
      assertError(await get("/api/conversations/c_nope/messages/"), 404, "not_found");
    });
  });

  describe("POST /api/conversations/{id}/messages/", () => {
    it("answers 201 with the stored support message", async () => {
      const { id } = await conversationWith(2, { externalId: "send-1" });
      const before = await getConversation(id);
      await tick();
      const res = await post<MessageView>(`/api/conversations/${id}/messages/`, {
        content: "  How can I help?  ",
        client_id: "c-123",
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const m = res.body;
      assertMessageShape(m);
      assert.deepEqual(
        { ...m, id: "", created_at: "" },
        {
          id: "",
          conversation_id: id,
          seq: 3,
          content: "How can I help?",
          type: "support",
          customer: before.customer,
          sender: { id: agent.id, username: agent.username },
          is_ai_response: false,
          is_answered: true,
          // The conversation has a channel: the message waits for the platform.
          delivery_status: "pending",
          client_id: "c-123",
          attachments: [],
          created_at: "",
        },
      );
      assert.match(m.id, /^[A-Za-z0-9_-]{1,64}$/);

      const history = await getMessages(id);
      assert.deepEqual(
        history.messages.map((x) => [x.seq, x.type, x.is_answered]),
        [
          [1, "customer", true],
          [2, "customer", true],
          [3, "support", true],
        ],
      );
      assert.deepEqual(history.messages.at(-1), m);

      const after = await getConversation(id);
      assert.ok(after.updated_at > before.updated_at);
      assert.deepEqual(after.last_message, {
        id: m.id,
        content: "How can I help?",
        type: "support",
        created_at: m.created_at,
      });
    });

    it("answers client_id null when none was given", async () => {
      const { id } = await conversationWith(1, { externalId: "send-noclient" });
      const res = await post<MessageView>(`/api/conversations/${id}/messages`, { content: "hi" });
      assert.equal(res.status, 201);
      assert.equal(res.body.client_id, null);
      const withNull = await post<MessageView>(`/api/conversations/${id}/messages/`, {
        content: "hi again",
        client_id: null,
      });
      assert.equal(withNull.status, 201);
      assert.equal(withNull.body.seq, res.body.seq + 1);
    });

    it("moves a closed or active conversation to support_active", async () => {
      for (const status of ["closed", "active"]) {
        const { id } = await conversationWith(1, { externalId: `send-${status}` });
        await patch(`/api/conversations/${id}/`, { status });
        assert.equal((await getConversation(id)).status, status);
        const res = await post(`/api/conversations/${id}/messages/`, { content: "back to you" });
        assert.equal(res.status, 201);
        assert.equal((await getConversation(id)).status, "support_active");
      }
    });

    it("keeps a marketing_active conversation as it is", async () => {
      const { id } = await conversationWith(1, { externalId: "send-marketing" });
      await patch(`/api/conversations/${id}/`, { status: "marketing_active" });
      await post(`/api/conversations/${id}/messages/`, { content: "hello" });
      assert.equal((await getConversation(id)).status, "marketing_active");
    });

    it("stores a repeated client_id once and answers 200 with the first message", async () => {
      const { id } = await conversationWith(1, { externalId: "send-retry" });
      const first = await post<MessageView>(`/api/conversations/${id}/messages/`, {
        content: "once",
        client_id: "retry-1",
      });
      assert.equal(first.status, 201);
      const again = await post<MessageView>(`/api/conversations/${id}/messages/`, {
        content: "once",
        client_id: "retry-1",
      });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      // A retry with other content is still the same message.
      const changed = await post<MessageView>(`/api/conversations/${id}/messages/`, {
        content: "twice?",
        client_id: "retry-1",
      });
      assert.equal(changed.status, 200);
      assert.equal(changed.body.id, first.body.id);
      assert.equal(changed.body.content, "once");

      const next = await post<MessageView>(`/api/conversations/${id}/messages/`, {
        content: "next",
        client_id: "retry-2",
      });
      assert.equal(next.status, 201);
      assert.equal(next.body.seq, first.body.seq + 1);
      const history = await getMessages(id);
      assert.deepEqual(
        history.messages.map((m) => m.content),
        ["m1", "once", "next"],
      );
    });

    it("scopes client_id to its conversation", async () => {
      const a = await conversationWith(1, { externalId: "scope-a" });
      const b = await conversationWith(1, { externalId: "scope-b" });
      const inA = await post<MessageView>(`/api/conversations/${a.id}/messages/`, {
        content: "same id",
        client_id: "shared-1",
      });
      const inB = await post<MessageView>(`/api/conversations/${b.id}/messages/`, {
        content: "same id",
        client_id: "shared-1",
      });
      assert.equal(inA.status, 201);
      assert.equal(inB.status, 201);
      assert.notEqual(inA.body.id, inB.body.id);
      assert.equal(inB.body.conversation_id, b.id);
    });

    it("answers 400 for empty, blank or too long content and stores nothing", async () => {
      const { id } = await conversationWith(1, { externalId: "send-bad" });
      const before = await getConversation(id);
      for (const body of [
        { content: "" },
        { content: "   \n\t " },
        { content: "x".repeat(4097) },
        { content: ` ${"x".repeat(4097)} ` },
        {},
        { content: 5 },
        { content: null },
        { content: "ok", client_id: "" },
        { content: "ok", client_id: 7 },
      ]) {
        assertError(await post(`/api/conversations/${id}/messages/`, body), 400, "invalid");
      }
      assertError(await post(`/api/conversations/${id}/messages/`, "{bad"), 400, "invalid_json");
      assert.deepEqual(await getConversation(id), before);
      assert.equal((await getMessages(id)).messages.length, 1);
    });

    it("accepts exactly 4096 characters after trimming", async () => {
      const { id } = await conversationWith(1, { externalId: "send-max" });
      const content = "y".repeat(4096);
      const res = await post<MessageView>(`/api/conversations/${id}/messages/`, {
        content: `  ${content}\n`,
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.content, content);
    });

    it("answers 404 for an unknown conversation", async () => {
      assertError(
        await post("/api/conversations/c_nope/messages/", { content: "hello" }),
        404,
        "not_found",
      );
    });
  });

  describe("POST /api/conversations/{id}/read/", () => {
    it("resets the unread count", async () => {
      const { id, channelId } = await conversationWith(3, { externalId: "read-1" });
      assert.equal((await getConversation(id)).unread_count, 3);
      const res = await post<Record<string, unknown>>(`/api/conversations/${id}/read/`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ["conversation_id", "read_at", "user_id"]);
      assert.equal(res.body.conversation_id, id);
      assert.equal(res.body.user_id, agent.id);
      assert.match(String(res.body.read_at), ISO_MS);
      assert.equal((await getConversation(id)).unread_count, 0);

      await ingest(server, agent.id, "one more", { externalId: "read-1" }, { channelId });
      assert.equal((await getConversation(id)).unread_count, 1);
      const again = await post(`/api/conversations/${id}/read`);
      assert.equal(again.status, 200);
      assert.equal((await getConversation(id)).unread_count, 0);
    });

    it("does not count support messages as unread", async () => {
      const { id } = await conversationWith(1, { externalId: "read-2" });
      await post(`/api/conversations/${id}/read/`);
      await post(`/api/conversations/${id}/messages/`, { content: "reply" });
      assert.equal((await getConversation(id)).unread_count, 0);
    });

    it("answers 404 for an unknown conversation", async () => {
      assertError(await post("/api/conversations/c_nope/read/"), 404, "not_found");
    });
  });
});
