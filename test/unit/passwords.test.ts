import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decoyHash, hashPassword, verifyPassword } from "../../src/auth/passwords.js";

// Stored as `scrypt$N$r$p$salt$hash`: 16-byte salt and 64-byte key, both base64url.
const FORMAT = /^scrypt\$16384\$8\$1\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{86})$/;

describe("hashPassword", () => {
  it("stores scrypt with its parameters, salt and key", async () => {
    const stored = await hashPassword("correct horse battery");
    assert.match(stored, FORMAT);
    assert.ok(!stored.includes("correct horse battery"));
  });

  it("salts every hash differently", async () => {
    const [a, b] = await Promise.all([
      hashPassword("same password"),
      hashPassword("same password"),
    ]);
    assert.notEqual(a, b);
    assert.notEqual(a.match(FORMAT)?.[1], b.match(FORMAT)?.[1]);
    assert.notEqual(a.match(FORMAT)?.[2], b.match(FORMAT)?.[2]);
  });
});

describe("verifyPassword", () => {
  it("accepts the right password and only that one", async () => {
    const stored = await hashPassword("correct horse battery");
    assert.equal(await verifyPassword("correct horse battery", stored), true);
    assert.equal(await verifyPassword("correct horse batterY", stored), false);
    assert.equal(await verifyPassword("correct horse battery ", stored), false);
    assert.equal(await verifyPassword("", stored), false);
  });

  it("verifies with the parameters stored in the hash", async () => {
    // A hash made with lower cost parameters still verifies after the defaults are raised.
    const { scryptSync } = await import("node:crypto");
    const salt = Buffer.from("0123456789abcdef");
    const key = scryptSync("pw-with-old-params", salt, 64, { N: 1024, r: 8, p: 1 });
    const stored = `scrypt$1024$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
    assert.equal(await verifyPassword("pw-with-old-params", stored), true);
    assert.equal(await verifyPassword("other", stored), false);
  });

  it("treats canonically equivalent Unicode passwords alike", async () => {
    const stored = await hashPassword("caf\u00e9 au lait");
    assert.equal(await verifyPassword("cafe\u0301 au lait", stored), true);
  });

  it("answers false, never throws, for malformed stored hashes", async () => {
    const good = await hashPassword("pw");
    const [, , , , salt, key] = good.split("$");
    const malformed = [
      "",
      "pw",
      "$$$$$",
      "bcrypt$16384$8$1$salt$hash",
      `argon2$16384$8$1$${salt}$${key}`,
      `scrypt$16384$8$1$${salt}$`,
      `scrypt$16384$8$1$$${key}`,
      `scrypt$16384$8$1$${salt}`,
      `scrypt$16384$8$1$${salt}$${key?.slice(0, 40)}`,
      `scrypt$abc$8$1$${salt}$${key}`,
      `scrypt$$$$${salt}$${key}`,
      `scrypt$1000$8$1$${salt}$${key}`,
      `scrypt$-16384$8$1$${salt}$${key}`,
      `scrypt$16384$0$1$${salt}$${key}`,
      `scrypt$16384$8$0$${salt}$${key}`,
      `scrypt$16384.5$8$1$${salt}$${key}`,
      // Would need gigabytes of memory: must be refused, not attempted.
      `scrypt$1073741824$8$1$${salt}$${key}`,
    ];
    for (const stored of malformed) {
      assert.equal(
        await verifyPassword("pw", stored),
        false,
        `stored hash ${JSON.stringify(stored)}`,
      );
    }
  });
});

describe("decoyHash", () => {
  it("is one well-formed hash that no guessable password matches", async () => {
    const decoy = await decoyHash();
    assert.match(decoy, FORMAT);
    assert.equal(await decoyHash(), decoy);
    assert.equal(await verifyPassword("", decoy), false);
    assert.equal(await verifyPassword("password", decoy), false);
  });
});
