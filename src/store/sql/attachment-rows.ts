import type { Selectable } from "kysely";
import { newAttachmentId } from "../../domain/ids.js";
import type {
  Attachment,
  AttachmentFields,
  AttachmentState,
  PlatformFileRef,
} from "../../domain/types.js";
import type { AttachmentsTable, Executor } from "./schema.js";

// Attachment rows: written with their message (in its transaction), read in one query per page.

export function toAttachment(row: Selectable<AttachmentsTable>): Attachment {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    mimeType: row.mime_type,
    fileName: row.file_name,
    size: row.size,
    width: row.width,
    height: row.height,
    duration: row.duration,
    latitude: row.latitude,
    longitude: row.longitude,
    title: row.title,
    address: row.address,
    phoneNumber: row.phone_number,
    firstName: row.first_name,
    lastName: row.last_name,
  };
}

/** An attachment to insert: its fields, its state and, for a file still on a platform, where. */
export interface AttachmentInsert {
  id?: string;
  fields: AttachmentFields;
  state: AttachmentState;
  ref: PlatformFileRef | null;
}

/** Inserts a message's attachments in order; returns their ids. */
export async function insertAttachments(
  trx: Executor,
  messageId: string,
  items: readonly AttachmentInsert[],
  now: number,
): Promise<string[]> {
  if (items.length === 0) return [];
  const rows = items.map((item, position) => {
    const f = item.fields;
    return {
      id: item.id ?? newAttachmentId(),
      message_id: messageId,
      position,
      kind: f.kind,
      state: item.state,
      mime_type: f.mimeType,
      file_name: f.fileName,
      size: f.size,
      width: f.width,
      height: f.height,
      duration: f.duration,
      latitude: f.latitude,
      longitude: f.longitude,
      title: f.title,
      address: f.address,
      phone_number: f.phoneNumber,
      first_name: f.firstName,
      last_name: f.lastName,
      platform_ref: item.ref === null ? null : JSON.stringify(item.ref),
      created_at: now,
    };
  });
  await trx.insertInto("attachments").values(rows).execute();
  return rows.map((r) => r.id);
}

/** The attachments of these messages, grouped by message id, each group in position order. */
export async function attachmentsOf(
  db: Executor,
  messageIds: readonly string[],
): Promise<Map<string, Attachment[]>> {
  if (messageIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("attachments")
    .selectAll()
    .where("message_id", "in", [...messageIds])
    .orderBy("message_id")
    .orderBy("position")
    .execute();
  return byMessage(rows);
}

/** Attachment rows grouped by message id, each group in the rows' order. */
export function byMessage(
  rows: readonly Selectable<AttachmentsTable>[],
): Map<string, Attachment[]> {
  const groups = new Map<string, Attachment[]>();
  for (const row of rows) {
    const list = groups.get(row.message_id);
    if (list === undefined) groups.set(row.message_id, [toAttachment(row)]);
    else list.push(toAttachment(row));
  }
  return groups;
}
