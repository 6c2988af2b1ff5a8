import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { AccountService } from "../auth/account-service.js";
import { ID_PATTERN } from "../domain/ids.js";
import type { AttachmentLinks } from "../files/attachment-links.js";
import type { ByteRange, FileStore } from "../files/file-store.js";
import type { MediaFetcher } from "../files/media-fetcher.js";
import { servedInline } from "../files/sniff.js";
import type { AttachmentRecord, AttachmentStore } from "../store/store.js";
import { bearerToken } from "./authenticate.js";

// `GET /api/attachments/{id}/` (section 7b). Opened by a signed link (`?exp=&sig=`, no header,
// so it works in `<img src>`) or by the owner's bearer token. Every refusal (another user, a
// bad or expired signature, no file) is the same 404, so ids cannot be probed.

export interface AttachmentRouteDeps {
  attachments: AttachmentStore;
  files: FileStore;
  links: AttachmentLinks;
  accounts: AccountService;
  /** Fetches a file not yet downloaded; absent when this process runs no platform adapters. */
  fetcher: () => MediaFetcher | undefined;
}

const params = z.object({ id: z.string().regex(ID_PATTERN) });
const query = z.object({ exp: z.string().max(20).optional(), sig: z.string().max(100).optional() });

/** Nothing in a served file may run on this origin: no script, no plugin, a sandboxed page. */
export const ATTACHMENT_CSP = "default-src 'none'; sandbox";

const NOT_FOUND = { error: "Not found", code: "not_found" };
// The file is being fetched from the platform and could not be had just now.
const RETRY_SECONDS = 5;

export type RangeAnswer =
  | { kind: "whole" }
  | { kind: "part"; range: ByteRange }
  | { kind: "unsatisfiable" };

/**
 * One `bytes=` range of a file of `size` bytes. Several ranges, or a header we cannot read, get
 * the whole file (which RFC 9110 allows); a range that starts past the end is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: "whole" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: "whole" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    // A suffix: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "part", range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size) return { kind: "unsatisfiable" };
  if (end < start) return { kind: "whole" };
  return { kind: "part", range: { start, end } };
}

/** `inline` or `attachment`, with the name in both forms browsers read. */
function disposition(inline: boolean, fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export async function attachmentRoutes(
  app: FastifyInstance,
  deps: AttachmentRouteDeps,
): Promise<void> {
  /** The record when the request may open it, else undefined (answered 404). */
  async function authorized(
    id: string,
    exp: string | undefined,
    sig: string | undefined,
    authorization: string | undefined,
  ): Promise<AttachmentRecord | undefined> {
    const signed = deps.links.valid(id, exp, sig);
    const bearer = bearerToken(authorization);
    if (!signed && bearer === undefined) return undefined;
    const record = await deps.attachments.findById(id);
    if (record === undefined) return undefined;
    if (signed) return record;
    // A bad token is a 401 like everywhere else; a good one of another user a plain 404.
    const { user } = await deps.accounts.authenticate(bearer ?? "");
    return user.id === record.ownerId ? record : undefined;
  }

  /** Makes sure the bytes are here: fetched on demand when the download job has not run yet. */
  async function ready(record: AttachmentRecord, reply: FastifyReply): Promise<boolean> {
    const { state } = record.attachment;
    if (state === "stored") return true;
    if (state !== "pending") {
      await reply.code(404).send(NOT_FOUND);
      return false;
    }
    const fetcher = deps.fetcher();
    let outcome: "stored" | "unavailable" | "later" = "later";
    if (fetcher) {
      try {
        outcome = await fetcher.fetch(record);
      } catch (err) {
        // Retryable trouble: the job keeps trying; the client may come back shortly.
        reply.log.info({ attachment: record.attachment.id, err }, "on-demand fetch failed");
      }
    }
    if (outcome === "stored") return true;
    if (outcome === "unavailable") {
      await reply.code(404).send(NOT_FOUND);
      return false;
    }
    await reply
      .code(503)
      .header("retry-after", RETRY_SECONDS)
      .send({ error: "The file is not available yet", code: "not_ready" });
    return false;
  }

  app.get("/api/attachments/:id/", async (request, reply) => {
    const parsedParams = params.safeParse(request.params);
    const parsedQuery = query.safeParse(request.query ?? {});
    if (!parsedParams.success || !parsedQuery.success) return reply.code(404).send(NOT_FOUND);
    const { id } = parsedParams.data;
    const { exp, sig } = parsedQuery.data;
    const record = await authorized(id, exp, sig, request.headers.authorization);
    if (record === undefined) return reply.code(404).send(NOT_FOUND);
    if (!(await ready(record, reply))) return reply;

    // Only an on-demand fetch (of a pending file) has just filled in the sniffed type; a stored
    // file's record is already complete.
    const current =
      record.attachment.state === "pending"
        ? ((await deps.attachments.findById(id)) ?? record)
        : record;
    const stat = await deps.files.stat(id);
    if (stat === undefined) return reply.code(404).send(NOT_FOUND);
    const mimeType = current.attachment.mimeType ?? "application/octet-stream";
    const inline = servedInline(mimeType);
    const fileName = current.attachment.fileName ?? `${current.attachment.kind}-${id}`;
    reply
      .header("content-type", mimeType)
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", ATTACHMENT_CSP)
      .header("content-disposition", disposition(inline, fileName))
      .header("accept-ranges", "bytes")
      // Signed links differ per hour; a private cache may keep the bytes that long.
      .header("cache-control", "private, max-age=3600");

    const range = parseRange(request.headers.range, stat.size);
    if (range.kind === "unsatisfiable") {
      return reply
        .code(416)
        .header("content-range", `bytes */${stat.size}`)
        .header("content-type", "application/json")
        .send({ error: "Range not satisfiable", code: "range_not_satisfiable" });
    }
    const part = range.kind === "part" ? range.range : undefined;
    const stream = await deps.files.get(id, part);
    if (stream === undefined) return reply.code(404).send(NOT_FOUND);
    if (part) {
      reply
        .code(206)
        .header("content-range", `bytes ${part.start}-${part.end}/${stat.size}`)
        .header("content-length", part.end - part.start + 1);
    } else {
      reply.header("content-length", stat.size);
    }
    return reply.send(stream);
  });
}
