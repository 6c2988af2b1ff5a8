import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AiSettingsView } from "../../client/wire.js";
import { type AiSettings, NEW_CONVERSATION_STATUSES } from "../domain/types.js";
import { ValidationError } from "../errors.js";
import type { AiSettingsStore } from "../store/store.js";
import { currentUser, type RequireUser } from "./authenticate.js";
import { parseInput } from "./error-handler.js";

export const MAX_INSTRUCTIONS_LENGTH = 8000;

// Strict: a misspelt field is a 400 rather than a silent no-op. `available` is what GET
// answers, so a client may send the object back as it got it; the server decides it.
const putBody = z
  .object({
    enabled: z.boolean().optional(),
    instructions: z.string().max(MAX_INSTRUCTIONS_LENGTH).optional(),
    new_conversation_status: z.enum(NEW_CONVERSATION_STATUSES).optional(),
    available: z.boolean().optional(),
  })
  .strict();

const view = (settings: AiSettings, available: boolean): AiSettingsView => ({
  available,
  enabled: settings.enabled,
  instructions: settings.instructions,
  new_conversation_status: settings.newConversationStatus,
});

/** protocol.md section 11: each user's automatic-answer settings. */
export async function aiSettingsRoutes(
  app: FastifyInstance,
  opts: { settings: AiSettingsStore; available: boolean; requireUser: RequireUser },
): Promise<void> {
  const { settings, available } = opts;
  app.addHook("preHandler", opts.requireUser);

  app.get("/api/ai/settings/", async (request) =>
    view(await settings.get(currentUser(request).id), available),
  );

  app.put("/api/ai/settings/", async (request) => {
    // Validated whole before anything is written: a bad field changes nothing.
    if (request.body === null) throw new ValidationError("The body must be a JSON object");
    const body = parseInput(putBody, request.body);
    const changes: Partial<AiSettings> = {};
    if (body.enabled !== undefined) changes.enabled = body.enabled;
    if (body.instructions !== undefined) changes.instructions = body.instructions;
    if (body.new_conversation_status !== undefined) {
      changes.newConversationStatus = body.new_conversation_status;
    }
    return view(await settings.update(currentUser(request).id, changes), available);
  });
}
