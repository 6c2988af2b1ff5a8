import type { AttachmentFields } from "./types.js";

/**
 * Every field of an attachment that may not apply, as `null` (section 7b: fields that do not
 * apply are null). A mapper spreads it and sets what its kind has.
 */
export const NO_ATTACHMENT_FIELDS: Readonly<Omit<AttachmentFields, "kind">> = Object.freeze({
  mimeType: null,
  fileName: null,
  size: null,
  width: null,
  height: null,
  duration: null,
  latitude: null,
  longitude: null,
  title: null,
  address: null,
  phoneNumber: null,
  firstName: null,
  lastName: null,
});
