import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { MessageView } from "../../client/wire.js";
import {
  addressOf,
  type FreshDatabase,
  freshDatabase,
  POSTGRES_ADMIN_URL,
  postgresReachable,
  REDIS_URL,
  redisReachable,
  reportSkip,
  type ServerProcess,
  servicesRequired,
  startServerProcess,
  stopAll,
  waitFor,
} from "../helpers/cluster.js";
import { botToken, FakeTelegram } from "../helpers/fake-telegram.js";
import { SAMPLES } from "../helpers/media-samples.js";
import { type FakeS3, startS3 } from "../helpers/s3.js";
import { api, registerUser, type TestUser } from "../helpers/server.js";

// Section 7b across machines: two server processes on one PostgreSQL, one Redis and one
// S3-compatible bucket (s3rver), each with a folder of its own that it must not rely on. A file
// a customer sent to one process is served by the other; an upload to one is served by the
// other and delivered by whichever process's worker takes the job.

const SUITE = "media cluster suite";
const JWT_SECRET = "media-cluster-secret-0123456789abcdef";
const PUBLIC_URL = "https://chat.example.test";

async function unreachable(): Promise<string | undefined> {
  if (!(await postgresReachable())) {
    return `PostgreSQL not reachable at ${addressOf(POSTGRES_ADMIN_URL, "5432")}`;
  }
  if (!(await redisReachable())) return `Redis not reachable at ${addressOf(REDIS_URL, "6379")}`;
  return undefined;
}

async function bytesOf(proc: ServerProcess, path: string) {
  const res = await fetch(proc.baseUrl + path);
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    bytes: Buffer.from(await res.arrayBuffer()),
  };
}

async function messages(proc: ServerProcess, user: TestUser, conversationId: string) {
  const res = await api<{ messages: MessageView[] }>(
    proc,
    "GET",
    `/api/conversations/${conversationId}/messages/`,
    { token: user.access },
  );
  return res.body.messages;
}

function suite(): void {
  describe(SUITE, { timeout: 300_000 }, () => {
    let db: FreshDatabase;
    let s3: FakeS3;
    let telegram: FakeTelegram;
    const dirs: string[] = [];
    const processes: ServerProcess[] = [];
    let a: ServerProcess;
    let b: ServerProcess;

    before(async () => {
      [db, s3, telegram] = await Promise.all([
        freshDatabase("fiko_media"),
        startS3(),
        FakeTelegram.start(),
      ]);
      const env = (name: string) => {
        const dir = mkdtempSync(join(tmpdir(), `fiko-media-${name}-`));
        dirs.push(dir);
        return {
          DATABASE_URL: db.url,
          REDIS_URL,
          REDIS_PREFIX: `fiko-media-${randomBytes(4).toString("hex")}:`,
          JWT_SECRET,
          PUBLIC_URL,
          TELEGRAM_API_ROOT: telegram.apiRoot,
          DELIVERY_BASE_DELAY_MS: "50",
          // A folder each: were the bucket not used, the other process would not find a file.
          FILES_DIR: join(dir, "files"),
          ...s3.env,
        };
      };
      const prefixEnv = env("a");
      a = await startServerProcess("a", prefixEnv);
      processes.push(a);
      b = await startServerProcess("b", { ...env("b"), REDIS_PREFIX: prefixEnv.REDIS_PREFIX });
      processes.push(b);
    });
    after(async () => {
      await stopAll(processes);
      await Promise.all([db.drop(), s3.close(), telegram.close()]);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it("serves on one process the files received or uploaded on the other", async () => {
      const owner = await registerUser(a);
      const token = telegram.addBot(botToken());
      const created = await api<{ id: string }>(a, "POST", "/api/channels/", {
        token: owner.access,
        body: { platform: "telegram", bot_token: token },
      });
      assert.equal(created.status, 201);
      const secret = String(telegram.callsTo("setWebhook").at(-1)?.body.secret_token);
      telegram.addFile("cluster-photo", SAMPLES.png);
      const from = { id: 5_550_001, is_bot: false, first_name: "Cluster", last_name: "Customer" };
      const hook = await fetch(`${a.baseUrl}/api/webhooks/telegram/${created.body.id}/`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
        body: JSON.stringify({
          update_id: 1,
          message: {
            message_id: 1,
            date: Math.floor(Date.now() / 1000),
            chat: { id: from.id, type: "private", first_name: from.first_name },
            from,
            photo: [{ file_id: "cluster-photo", file_unique_id: "u", width: 1, height: 1 }],
            caption: "from process a",
          },
        }),
      });
      assert.equal(hook.status, 200);

      // Received on a, read and served on b once a worker (either one) stored the bytes.
      const list = await api<{ conversations: Array<{ id: string }> }>(
        b,
        "GET",
        "/api/conversations/",
        {
          token: owner.access,
        },
      );
      const conversationId = list.body.conversations[0]?.id ?? "";
      let inbound: MessageView | undefined;
      await waitFor(
        async () => {
          [inbound] = await messages(b, owner, conversationId);
          return inbound?.attachments[0]?.mime_type === "image/png";
        },
        "the photo stored",
        30_000,
      );
      assert.equal(inbound?.content, "from process a");
      const photo = await bytesOf(b, inbound?.attachments[0]?.url ?? "");
      assert.equal(photo.status, 200);
      assert.equal(photo.type, "image/png");
      assert.ok(photo.bytes.equals(SAMPLES.png));

      // Uploaded to b, served by a, delivered by whichever worker took the job.
      const form = new FormData();
      form.append("content", "from process b");
      form.append("file", new Blob([SAMPLES.pdf]), "terms.pdf");
      const uploaded = await fetch(`${b.baseUrl}/api/conversations/${conversationId}/messages/`, {
        method: "POST",
        headers: { authorization: `Bearer ${owner.access}` },
        body: form,
      });
      assert.equal(uploaded.status, 201);
      const message = (await uploaded.json()) as MessageView;
      const served = await bytesOf(a, message.attachments[0]?.url ?? "");
      assert.equal(served.status, 200);
      assert.equal(served.type, "application/pdf");
      assert.ok(served.bytes.equals(SAMPLES.pdf));
      const [sent] = await telegram
        .waitForCalls("sendDocument", 1, 30_000)
        .catch((err: unknown) => {
          const why = processes.flatMap((p) => [
            ...p.logged("send failed, will retry"),
            ...p.logged("send failed for good"),
            ...p.logged("send crashed"),
          ]);
          throw new Error(`${String(err)}: ${JSON.stringify(why.slice(0, 3))}`);
        });
      assert.equal(sent?.body.caption, "from process b");
      assert.ok(sent?.upload?.bytes.equals(SAMPLES.pdf));
      await waitFor(
        async () => (await messages(a, owner, conversationId)).at(-1)?.delivery_status === "sent",
        "the upload sent",
        30_000,
      );
      assert.equal(telegram.callsTo("sendDocument").length, 1);
    });
  });
}

const reason = await unreachable();
if (reason === undefined) suite();
else if (servicesRequired()) {
  describe(SUITE, () => {
    it("has its services", () => assert.fail(reason));
  });
} else reportSkip(SUITE, reason);
