import { basename } from "node:path";
import type { Multipart } from "@fastify/multipart";
import type { FastifyRequest } from "fastify";
import { NO_ATTACHMENT_FIELDS } from "../domain/attachment-fields.js";
import type { Actor, ChatService } from "../domain/chat-service.js";
import { newAttachmentId } from "../domain/ids.js";
import { AppError, ValidationError } from "../errors.js";
import type { FileStore } from "../files/file-store.js";
import { sniffStored, uploadKind } from "../files/sniff.js";
import type { AppendResult } from "../store/store.js";

// `POST /api/conversations/{id}/messages/` as multipart/form-data (section 7b): one `file`, and
// optional `content` (the caption) and `client_id`. The file streams straight into the file
// store (never whole in memory) under a fresh attachment id; the message is stored only once
// the bytes are. Whatever goes wrong on the way, the bytes are removed again.

export interface UploadDeps {
  chat: ChatService;
  files: FileStore;
  maxUploadBytes: number;
}

const FIELD_LIMIT = 16_384;

/** A name for the download's Content-Disposition: no path, no control characters. */
function cleanFileName(raw: string | undefined): string | null {
  const printable = [...basename(raw ?? "")].filter((c) => {
    const code = c.charCodeAt(0);
    return code >= 0x20 && code !== 0x7f;
  });
  const name = printable.join("").trim().slice(0, 255);
  return name === "" ? null : name;
}

/** A multipart parser failure, as the 400 it is; our own errors pass through as they are. */
function formError(err: unknown): Error {
  if (err instanceof AppError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ValidationError(`The multipart form could not be read: ${reason}`);
}

/** The form's parts; a body that is not valid multipart fails as a 400, not a 500. */
async function* formParts(request: FastifyRequest) {
  const parts = request.parts()[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Multipart>;
    try {
      next = await parts.next();
    } catch (err) {
      throw formError(err);
    }
    if (next.done) return;
    yield next.value;
  }
}

export async function receiveUpload(
  request: FastifyRequest,
  actor: Actor,
  conversationId: string,
  deps: UploadDeps,
): Promise<AppendResult> {
  // Refuse another user's conversation before taking any bytes.
  await deps.chat.requireConversation(actor.id, conversationId);
  const id = newAttachmentId();
  let size: number | undefined;
  let fileName: string | null = null;
  const fields = new Map<string, string>();
  let keep = false;
  try {
    for await (const part of formParts(request)) {
      if (part.type === "file") {
        if (part.fieldname !== "file" || size !== undefined) {
          part.file.resume();
          throw new ValidationError("Send exactly one file, in the field `file`");
        }
        try {
          ({ size } = await deps.files.put(id, part.file, { maxBytes: deps.maxUploadBytes }));
        } catch (err) {
          // The parser fails the file's stream when the body breaks off mid-file: the client's
          // fault. Anything else (a full disk, the bucket away) is ours.
          throw part.file.errored ? formError(err) : err;
        }
        fileName = cleanFileName(part.filename);
      } else if (typeof part.value === "string") {
        if (part.value.length > FIELD_LIMIT)
          throw new ValidationError(`${part.fieldname} is too long`);
        fields.set(part.fieldname, part.value);
      }
    }
    if (size === undefined) throw new ValidationError("file: a file is required");
    if (size === 0) throw new ValidationError("file: the file is empty");
    const clientId = fields.get("client_id") || null;
    if (clientId !== null && clientId.length > 128) {
      throw new ValidationError("client_id: at most 128 characters");
    }
    const sniffed = await sniffStored(deps.files, id, size);
    const result = await deps.chat.sendMedia(actor, conversationId, {
      attachment: {
        ...NO_ATTACHMENT_FIELDS,
        id,
        kind: uploadKind(sniffed),
        mimeType: sniffed.mimeType,
        fileName,
        size,
      },
      caption: fields.get("content") ?? null,
      clientId,
    });
    // A retry with the same client_id stored nothing new: its bytes are not needed.
    keep = !result.duplicate;
    return result;
  } finally {
    if (!keep) await deps.files.delete(id);
  }
}
