import { randomBytes } from "node:crypto";
import { ulid } from "ulid";
import { pooledRandomBytes, pooledRandomFraction } from "./random-pool.js";

// Ids are URL-safe and opaque ([A-Za-z0-9_-]{1,64}). Messages use ULIDs so that ids sort by time
// even across processes; the others only need to be unguessable.
export const newMessageId = (): string => ulid(undefined, pooledRandomFraction);
export const newConversationId = (): string => `c_${pooledRandomBytes(12).toString("base64url")}`;
export const newChannelId = (): string => `ch_${randomBytes(12).toString("base64url")}`;
export const newAttachmentId = (): string => `a_${randomBytes(12).toString("base64url")}`;
export const newSecretToken = (): string => randomBytes(32).toString("base64url");

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
