import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decodeJwt, type JWTPayload, SignJWT } from "jose";
import { hashPassword } from "../../src/auth/passwords.js";
import {
  api,
  registerUser,
  startServer,
  TEST_JWT_SECRET,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";

// protocol.md section 2: accounts and tokens over REST.

const PASSWORD = "correct horse battery";
const USER_KEYS = ["first_name", "id", "last_name", "username"];
const KEY = new TextEncoder().encode(TEST_JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** A token minted outside the server, as a Django backend sharing the key would. */
function mint(claims: JWTPayload, key = KEY): Promise<string> {
  return new SignJWT({ iat: now(), exp: now() + 300, jti: "0123456789abcdef", ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(key);
}

/** An error answer: exactly `{error, code}`, with the given status and code. */
function assertError(
  response: { status: number; body: unknown },
  status: number,
  code: string,
  error?: string,
): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const body = response.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["code", "error"], JSON.stringify(body));
  assert.equal(body.code, code);
  assert.equal(typeof body.error, "string");
  assert.ok((body.error as string).length > 0);
  if (error !== undefined) assert.equal(body.error, error);
}

let counter = 0;
const freshName = () => `user_${process.pid}_${++counter}`;

describe("accounts", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  describe("POST /api/auth/register/", () => {
    it("answers 201 with exactly {id, username, first_name, last_name}", async () => {
      const username = freshName();
      const res = await api(server, "POST", "/api/auth/register/", {
        body: { username, password: PASSWORD, first_name: "Ada", last_name: "Lovelace" },
      });
      assert.equal(res.status, 201);
      assert.deepEqual(Object.keys(res.body).sort(), USER_KEYS);
      const { id, ...rest } = res.body;
      assert.ok(Number.isSafeInteger(id) && (id as number) > 0, `id ${String(id)}`);
      assert.deepEqual(rest, { username, first_name: "Ada", last_name: "Lovelace" });
    });

    it("makes first_name and last_name optional (empty strings)", async () => {
      const username = freshName();
      const res = await api(server, "POST", "/api/auth/register/", {
        body: { username, password: PASSWORD },
      });
      assert.equal(res.status, 201);
      assert.deepEqual({ ...res.body, id: 0 }, { id: 0, username, first_name: "", last_name: "" });
    });

    it("accepts Django's username characters", async () => {
      const username = `a.b@c+d-e_${++counter}`;
      const res = await api(server, "POST", "/api/auth/register", {
        body: { username, password: PASSWORD },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.username, username);
    });

    it("stores a salted scrypt hash, never the password", async () => {
      const username = freshName();
      await api(server, "POST", "/api/auth/register/", { body: { username, password: PASSWORD } });
      const stored = await server.server.store.users.findByUsername(username);
      assert.match(stored?.passwordHash ?? "", /^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
      assert.ok(!stored?.passwordHash.includes(PASSWORD));
    });

    it("answers 409 when the username is taken", async () => {
      const username = freshName();
      const first = await api(server, "POST", "/api/auth/register/", {
        body: { username, password: PASSWORD },
      });
      assert.equal(first.status, 201);
      const again = await api(server, "POST", "/api/auth/register/", {
        body: { username, password: "another password" },
      });
      assertError(again, 409, "conflict");
      // The first account is untouched.
      const login = await api(server, "POST", "/api/auth/token/", {
        body: { username, password: PASSWORD },
      });
      assert.equal(login.status, 200);
    });

    const invalidBodies: [string, unknown][] = [
      ["a 7-character password", { username: "shortpw", password: "1234567" }],
      ["an empty password", { username: "emptypw", password: "" }],
      ["a username with a space", { username: "bad name", password: PASSWORD }],
      ["a username with a slash", { username: "bad/name", password: PASSWORD }],
      ["a username with a quote", { username: "bad'name", password: PASSWORD }],
      ["an empty username", { username: "", password: PASSWORD }],
      ["a 151-character username", { username: "u".repeat(151), password: PASSWORD }],
      ["a missing username", { password: PASSWORD }],
      ["a missing password", { username: "nopw" }],
      ["an empty object", {}],
      ["a numeric username", { username: 12345, password: PASSWORD }],
      ["a numeric password", { username: "numpw", password: 123456789 }],
      ["a null password", { username: "nullpw", password: null }],
      ["a numeric first_name", { username: "numfirst", password: PASSWORD, first_name: 5 }],
      ["an array last_name", { username: "arrlast", password: PASSWORD, last_name: ["x"] }],
      ["an array body", [{ username: "arr", password: PASSWORD }]],
      ["a string body", JSON.stringify("username")],
    ];
    for (const [label, body] of invalidBodies) {
      it(`answers 400 for ${label}`, async () => {
        const res = await api(server, "POST", "/api/auth/register/", { body });
        assertError(res, 400, "invalid");
      });
    }

    it("names the field that broke the rule", async () => {
      const res = await api(server, "POST", "/api/auth/register/", {
        body: { username: "shortpw2", password: "short" },
      });
      assertError(res, 400, "invalid");
      assert.match(String(res.body.error), /^password: /);
    });

    it("answers 400 invalid_json for a malformed JSON body", async () => {
      for (const body of ['{"username": "x", "password": ', "{username: x}", "nope"]) {
        const res = await api(server, "POST", "/api/auth/register/", { body });
        assertError(res, 400, "invalid_json");
      }
    });

    it("answers 415 for a body that is not JSON", async () => {
      const res = await api(server, "POST", "/api/auth/register/", {
        body: "username=x&password=y",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      assertError(res, 415, "unsupported_media_type");
    });

    it("answers 413 for a body over the limit", async () => {
      const res = await api(server, "POST", "/api/auth/register/", {
        body: { username: "big", password: "x".repeat(1024 * 1024) },
      });
      assertError(res, 413, "too_large");
    });

    it("stores nothing for a refused registration", async () => {
      await api(server, "POST", "/api/auth/register/", {
        body: { username: "refused_user", password: "short" },
      });
      assert.equal(await server.server.store.users.findByUsername("refused_user"), undefined);
    });
  });

  describe("POST /api/auth/token/", () => {
    let user: TestUser;
    before(async () => {
      user = await registerUser(server);
    });

    it("answers 200 with exactly {access, refresh}, an access and a refresh token", async () => {
      const res = await api(server, "POST", "/api/auth/token/", {
        body: { username: user.username, password: PASSWORD },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ["access", "refresh"]);
      const access = decodeJwt(String(res.body.access));
      const refresh = decodeJwt(String(res.body.refresh));
      assert.equal(access.token_type, "access");
      assert.equal(access.user_id, user.id);
      assert.equal((access.exp ?? 0) - (access.iat ?? 0), 3600);
      assert.equal(refresh.token_type, "refresh");
      assert.equal(refresh.user_id, user.id);
      assert.equal((refresh.exp ?? 0) - (refresh.iat ?? 0), 7 * 24 * 3600);
    });

    it("works without the trailing slash", async () => {
      const res = await api(server, "POST", "/api/auth/token", {
        body: { username: user.username, password: PASSWORD },
      });
      assert.equal(res.status, 200);
    });

    it("answers 401 with one body for a wrong password and for an unknown user", async () => {
      const wrongPassword = await api(server, "POST", "/api/auth/token/", {
        body: { username: user.username, password: "wrong password" },
      });
      const unknownUser = await api(server, "POST", "/api/auth/token/", {
        body: { username: "nobody_here", password: PASSWORD },
      });
      assertError(wrongPassword, 401, "unauthorized");
      assertError(unknownUser, 401, "unauthorized");
      assert.deepEqual(wrongPassword.body, unknownUser.body);
    });

    it("answers 400 for missing or mistyped credentials", async () => {
      assertError(await api(server, "POST", "/api/auth/token/", { body: {} }), 400, "invalid");
      assertError(
        await api(server, "POST", "/api/auth/token/", {
          body: { username: user.username, password: 12345678 },
        }),
        400,
        "invalid",
      );
      assertError(
        await api(server, "POST", "/api/auth/token/", { body: "{bad" }),
        400,
        "invalid_json",
      );
    });
  });

  describe("POST /api/auth/token/refresh/", () => {
    let user: TestUser;
    before(async () => {
      user = await registerUser(server);
    });

    it("answers 200 with exactly {access}, a working access token", async () => {
      const res = await api(server, "POST", "/api/auth/token/refresh/", {
        body: { refresh: user.refresh },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), ["access"]);
      const payload = decodeJwt(String(res.body.access));
      assert.equal(payload.token_type, "access");
      assert.equal(payload.user_id, user.id);
      const me = await api(server, "GET", "/api/auth/me/", { token: String(res.body.access) });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, user.id);
    });

    it("accepts a SimpleJWT refresh token with user_id as a string", async () => {
      const refresh = await mint({ token_type: "refresh", user_id: String(user.id) });
      const res = await api(server, "POST", "/api/auth/token/refresh", { body: { refresh } });
      assert.equal(res.status, 200);
    });

    it("answers 401 for garbage", async () => {
      for (const refresh of ["garbage", "", "a.b.c"]) {
        const res = await api(server, "POST", "/api/auth/token/refresh/", { body: { refresh } });
        assertError(res, 401, "unauthorized");
      }
    });

    it("answers 401 for an access token", async () => {
      const res = await api(server, "POST", "/api/auth/token/refresh/", {
        body: { refresh: user.access },
      });
      assertError(res, 401, "unauthorized", "Not a refresh token");
    });

    it("answers 401 for an expired refresh token", async () => {
      const refresh = await mint({
        token_type: "refresh",
        user_id: user.id,
        iat: now() - 8 * 24 * 3600,
        exp: now() - 60,
      });
      const res = await api(server, "POST", "/api/auth/token/refresh/", { body: { refresh } });
      assertError(res, 401, "unauthorized", "Token expired");
    });

    it("answers 401 for a refresh token signed with another key or of an unknown user", async () => {
      const foreign = await mint(
        { token_type: "refresh", user_id: user.id },
        new TextEncoder().encode("some-other-secret-0123456789abcdef"),
      );
      assertError(
        await api(server, "POST", "/api/auth/token/refresh/", { body: { refresh: foreign } }),
        401,
        "unauthorized",
      );
      const ghost = await mint({ token_type: "refresh", user_id: 999_999 });
      assertError(
        await api(server, "POST", "/api/auth/token/refresh/", { body: { refresh: ghost } }),
        401,
        "unauthorized",
      );
    });

    it("answers 400 without a refresh field", async () => {
      assertError(
        await api(server, "POST", "/api/auth/token/refresh/", { body: {} }),
        400,
        "invalid",
      );
      assertError(
        await api(server, "POST", "/api/auth/token/refresh/", { body: { refresh: 5 } }),
        400,
        "invalid",
      );
    });
  });

  describe("GET /api/auth/me/", () => {
    let user: TestUser;
    before(async () => {
      user = await registerUser(server);
    });

    it("answers 200 with exactly the user for a bearer access token", async () => {
      for (const path of ["/api/auth/me/", "/api/auth/me"]) {
        const res = await api(server, "GET", path, { token: user.access });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, {
          id: user.id,
          username: user.username,
          first_name: "Ada",
          last_name: "Agent",
        });
      }
    });

    it("accepts a SimpleJWT access token with user_id as a numeric string", async () => {
      const token = await mint({ token_type: "access", user_id: String(user.id) });
      const res = await api(server, "GET", "/api/auth/me/", { token });
      assert.equal(res.status, 200);
      assert.equal(res.body.id, user.id);
    });

    it("takes the scheme in any case", async () => {
      const res = await api(server, "GET", "/api/auth/me/", {
        headers: { authorization: `bearer ${user.access}` },
      });
      assert.equal(res.status, 200);
    });

    it("answers 401 without credentials", async () => {
      assertError(
        await api(server, "GET", "/api/auth/me/"),
        401,
        "unauthorized",
        "Authentication credentials were not provided",
      );
      for (const authorization of ["Bearer", "Bearer ", `Token ${user.access}`, "Basic dTpw"]) {
        const res = await api(server, "GET", "/api/auth/me/", { headers: { authorization } });
        assertError(res, 401, "unauthorized");
      }
    });

    it("answers 401 for a refresh token", async () => {
      const res = await api(server, "GET", "/api/auth/me/", { token: user.refresh });
      assertError(res, 401, "unauthorized", "Not an access token");
    });

    it("answers 401 for an expired access token", async () => {
      const token = await mint({
        token_type: "access",
        user_id: user.id,
        iat: now() - 7200,
        exp: now() - 3600,
      });
      const res = await api(server, "GET", "/api/auth/me/", { token });
      assertError(res, 401, "unauthorized", "Token expired");
    });

    it("answers 401 for a token signed with another key", async () => {
      const token = await mint(
        { token_type: "access", user_id: user.id },
        new TextEncoder().encode("some-other-secret-0123456789abcdef"),
      );
      const res = await api(server, "GET", "/api/auth/me/", { token });
      assertError(res, 401, "unauthorized", "Invalid token");
    });

    it("answers 401 for a valid token of a user that does not exist", async () => {
      const token = await mint({ token_type: "access", user_id: 999_999 });
      const res = await api(server, "GET", "/api/auth/me/", { token });
      assertError(res, 401, "unauthorized");
    });

    it("answers 401 for malformed user ids", async () => {
      for (const userId of ["abc", 0, -1, `${user.id}.0`]) {
        const token = await mint({ token_type: "access", user_id: userId });
        const res = await api(server, "GET", "/api/auth/me/", { token });
        assertError(res, 401, "unauthorized", "Invalid token");
      }
    });
  });
});

describe("accounts with ALLOW_REGISTRATION=false and short token lifetimes", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({
      env: { ALLOW_REGISTRATION: "false", ACCESS_TOKEN_TTL: "60", REFRESH_TOKEN_TTL: "120" },
    });
  });
  after(() => server.close());

  it("answers 403 to a registration and stores nothing", async () => {
    const res = await api(server, "POST", "/api/auth/register/", {
      body: { username: "closed_door", password: PASSWORD },
    });
    assertError(res, 403, "registration_closed");
    assert.equal(await server.server.store.users.findByUsername("closed_door"), undefined);
  });

  it("still logs in existing users, with the configured lifetimes", async () => {
    await server.server.store.users.create({
      username: "existing",
      passwordHash: await hashPassword(PASSWORD),
      firstName: "Ex",
      lastName: "Isting",
    });
    const res = await api(server, "POST", "/api/auth/token/", {
      body: { username: "existing", password: PASSWORD },
    });
    assert.equal(res.status, 200);
    const access = decodeJwt(String(res.body.access));
    const refresh = decodeJwt(String(res.body.refresh));
    assert.equal((access.exp ?? 0) - (access.iat ?? 0), 60);
    assert.equal((refresh.exp ?? 0) - (refresh.iat ?? 0), 120);
    const refreshed = await api(server, "POST", "/api/auth/token/refresh/", {
      body: { refresh: res.body.refresh },
    });
    const again = decodeJwt(String(refreshed.body.access));
    assert.equal((again.exp ?? 0) - (again.iat ?? 0), 60);
  });
});
