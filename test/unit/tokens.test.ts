import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeJwt, decodeProtectedHeader, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";
import { TokenIssuer, type TokenType } from "../../src/auth/tokens.js";
import { UnauthorizedError } from "../../src/errors.js";

// protocol.md section 2: SimpleJWT-compatible HS256 tokens.

const SECRET = "unit-test-secret-0123456789abcdef";
const KEY = new TextEncoder().encode(SECRET);
const TTL = { access: 3600, refresh: 7 * 24 * 3600 };
const issuer = new TokenIssuer(SECRET, TTL);

const now = () => Math.floor(Date.now() / 1000);

/** A token as an existing Django backend (SimpleJWT) would mint it, built by hand. */
function simpleJwt(
  claims: JWTPayload,
  options: { alg?: string; key?: Uint8Array } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .sign(options.key ?? KEY);
}

const djangoClaims = (overrides: Record<string, unknown> = {}): JWTPayload => ({
  token_type: "access",
  exp: now() + 300,
  iat: now(),
  jti: "0f6b1c2d3e4f40a1b2c3d4e5f6a7b8c9",
  user_id: "42",
  ...overrides,
});

async function rejects(token: Promise<string> | string, type: TokenType, message: string) {
  await assert.rejects(issuer.verify(await token, type), (err: unknown) => {
    assert.ok(err instanceof UnauthorizedError, `expected UnauthorizedError, got ${String(err)}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, "unauthorized");
    assert.equal(err.message, message);
    return true;
  });
}

describe("TokenIssuer.sign", () => {
  for (const type of ["access", "refresh"] as const) {
    it(`mints a ${type} token with exactly the SimpleJWT claims`, async () => {
      const before = now();
      const token = await issuer.sign(7, type);
      const after = now();
      const payload = decodeJwt(token);
      assert.deepEqual(Object.keys(payload).sort(), ["exp", "iat", "jti", "token_type", "user_id"]);
      assert.equal(payload.token_type, type);
      assert.equal(payload.user_id, 7);
      assert.ok(typeof payload.iat === "number" && payload.iat >= before && payload.iat <= after);
      assert.equal(payload.exp, (payload.iat ?? 0) + TTL[type]);
      assert.match(String(payload.jti), /^[0-9a-f]{32}$/);
    });
  }

  it("signs with HS256", async () => {
    const header = decodeProtectedHeader(await issuer.sign(1, "access"));
    assert.deepEqual(header, { alg: "HS256", typ: "JWT" });
  });

  it("gives every token its own jti", async () => {
    const a = decodeJwt(await issuer.sign(1, "access"));
    const b = decodeJwt(await issuer.sign(1, "access"));
    assert.notEqual(a.jti, b.jti);
  });

  it("follows configured lifetimes", async () => {
    const short = new TokenIssuer(SECRET, { access: 60, refresh: 120 });
    const access = decodeJwt(await short.sign(3, "access"));
    const refresh = decodeJwt(await short.sign(3, "refresh"));
    assert.equal((access.exp ?? 0) - (access.iat ?? 0), 60);
    assert.equal((refresh.exp ?? 0) - (refresh.iat ?? 0), 120);
  });
});

describe("TokenIssuer.verify", () => {
  it("accepts its own tokens and reports user and expiry", async () => {
    const token = await issuer.sign(7, "access");
    const verified = await issuer.verify(token, "access");
    assert.deepEqual(verified, { userId: 7, expiresAt: (decodeJwt(token).exp ?? 0) * 1000 });
    assert.equal((await issuer.verify(await issuer.sign(7, "refresh"), "refresh")).userId, 7);
  });

  it("accepts a SimpleJWT token with user_id as a numeric string", async () => {
    const claims = djangoClaims();
    const verified = await issuer.verify(await simpleJwt(claims), "access");
    assert.deepEqual(verified, { userId: 42, expiresAt: (claims.exp ?? 0) * 1000 });
  });

  it("accepts a SimpleJWT token with user_id as a number", async () => {
    const verified = await issuer.verify(await simpleJwt(djangoClaims({ user_id: 42 })), "access");
    assert.equal(verified.userId, 42);
  });

  it("accepts a SimpleJWT refresh token", async () => {
    const token = simpleJwt(djangoClaims({ token_type: "refresh" }));
    assert.equal((await issuer.verify(await token, "refresh")).userId, 42);
  });

  for (const [label, userId] of [
    ['"abc"', "abc"],
    ["0", 0],
    ['"0"', "0"],
    ["-1", -1],
    ['"-1"', "-1"],
    ["1.5", 1.5],
    ['"1.5"', "1.5"],
    ['" 42"', " 42"],
    ['"042"', "042"],
    ['""', ""],
    ["an unsafe integer", "90071992547409930"],
    ["null", null],
    ["true", true],
    ["an array", [42]],
  ] as const) {
    it(`rejects user_id ${label}`, async () => {
      await rejects(simpleJwt(djangoClaims({ user_id: userId })), "access", "Invalid token");
    });
  }

  it("rejects a token without user_id", async () => {
    const claims = djangoClaims();
    delete claims.user_id;
    await rejects(simpleJwt(claims), "access", "Invalid token");
  });

  it("rejects a token without exp", async () => {
    const claims = djangoClaims();
    delete claims.exp;
    await rejects(simpleJwt(claims), "access", "Invalid token");
  });

  it("rejects a token without token_type", async () => {
    const claims = djangoClaims();
    delete claims.token_type;
    await rejects(simpleJwt(claims), "access", "Not an access token");
  });

  it("never accepts a refresh token as an access token, nor the reverse", async () => {
    await rejects(issuer.sign(7, "refresh"), "access", "Not an access token");
    await rejects(issuer.sign(7, "access"), "refresh", "Not a refresh token");
  });

  it("rejects an expired token", async () => {
    const expired = simpleJwt(djangoClaims({ iat: now() - 120, exp: now() - 60 }));
    await rejects(expired, "access", "Token expired");
  });

  it("rejects a token once its lifetime has run out", async (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
    const token = await issuer.sign(7, "access");
    t.mock.timers.tick((TTL.access - 1) * 1000);
    assert.equal((await issuer.verify(token, "access")).userId, 7);
    t.mock.timers.tick(1000);
    await rejects(token, "access", "Token expired");
  });

  it('rejects alg "none"', async () => {
    const unsigned = new UnsecuredJWT(djangoClaims()).encode();
    await rejects(unsigned, "access", "Invalid token");
  });

  it("rejects HS512 even with the right key", async () => {
    await rejects(simpleJwt(djangoClaims(), { alg: "HS512" }), "access", "Invalid token");
  });

  it("rejects a token signed with another key", async () => {
    const other = new TextEncoder().encode("another-secret-0123456789abcdef");
    await rejects(simpleJwt(djangoClaims(), { key: other }), "access", "Invalid token");
    const foreignIssuer = new TokenIssuer("another-secret-0123456789abcdef", TTL);
    await rejects(foreignIssuer.sign(7, "access"), "access", "Invalid token");
  });

  it("rejects a token whose payload was altered", async () => {
    const [header, , signature] = (await issuer.sign(7, "access")).split(".");
    const forged = Buffer.from(
      JSON.stringify({ token_type: "access", user_id: 1, exp: now() + 60, iat: now(), jti: "x" }),
    ).toString("base64url");
    await rejects(`${header}.${forged}.${signature}`, "access", "Invalid token");
  });

  for (const garbage of ["", "garbage", "a.b.c", "Bearer x"]) {
    it(`rejects ${JSON.stringify(garbage)}`, async () => {
      await rejects(garbage, "access", "Invalid token");
    });
  }
});
