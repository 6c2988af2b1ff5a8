import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { hubSignatureValid, secretsEqual } from "../../src/platforms/constant-time.js";
import { describeError, redact } from "../../src/platforms/redact.js";

describe("secret comparison", () => {
  it("accepts only the exact secret", () => {
    assert.equal(secretsEqual("s3cret-token", "s3cret-token"), true);
    for (const given of ["s3cret-toke", "s3cret-token ", "S3cret-token", "", undefined]) {
      assert.equal(secretsEqual(given, "s3cret-token"), false, String(given));
    }
  });

  it("never accepts anything when no secret is expected", () => {
    assert.equal(secretsEqual(undefined, undefined), false);
    assert.equal(secretsEqual("", ""), false);
    assert.equal(secretsEqual("x", undefined), false);
  });

  it("checks X-Hub-Signature-256 over the raw bytes", () => {
    const raw = Buffer.from('{"object":"instagram","entry":[]}');
    const good = `sha256=${createHmac("sha256", "app-secret").update(raw).digest("hex")}`;
    assert.equal(hubSignatureValid(raw, good, "app-secret"), true);
    assert.equal(
      hubSignatureValid(raw, good.toUpperCase().replace("SHA256", "sha256"), "app-secret"),
      true,
    );
    assert.equal(hubSignatureValid(Buffer.from(`${raw} `), good, "app-secret"), false);
    assert.equal(hubSignatureValid(raw, good, "other-secret"), false);
    assert.equal(hubSignatureValid(raw, good.slice(7), "app-secret"), false);
    assert.equal(hubSignatureValid(raw, undefined, "app-secret"), false);
    assert.equal(hubSignatureValid(raw, good, undefined), false);
  });
});

describe("redaction", () => {
  const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

  it("removes given secrets and anything shaped like a bot token", () => {
    const text = `request to http://api/bot${token}/sendMessage failed`;
    assert.equal(redact(text), "request to http://api/bot[redacted]/sendMessage failed");
    assert.equal(redact("key=IGAAsecret123 end", "IGAAsecret123"), "key=[redacted] end");
  });

  it("describes errors without their secrets", () => {
    const err = new TypeError(`fetch failed for /bot${token}/getMe`);
    const text = describeError(err);
    assert.ok(!text.includes(token.split(":")[1] ?? "?"));
    assert.match(text, /^TypeError: fetch failed/);
  });
});
