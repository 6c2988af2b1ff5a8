import { useEffect, useState } from "preact/hooks";
import { type AiSettingsView, ApiError, type FikoClient } from "../sdk.js";

// The server's own limit (protocol.md section 11); the textarea stops there so a save never
// meets the 400.
const MAX_INSTRUCTIONS = 8000;

type NewStatus = AiSettingsView["new_conversation_status"];

const message = (err: unknown) =>
  err instanceof ApiError ? err.message : "The server could not be reached. Try again.";

/** The user's automatic answers: on or off, the instructions, and where new conversations start. */
export function SettingsPage({ client }: { client: FikoClient }) {
  const [settings, setSettings] = useState<AiSettingsView | null>(null);
  const [draft, setDraft] = useState<AiSettingsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    client.api.getAiSettings().then(
      (loaded) => {
        setSettings(loaded);
        setDraft(loaded);
      },
      (err: unknown) => setError(message(err)),
    );
  }, [client]);

  // Any edit after a save makes "Saved" untrue until the next save.
  const change = (patch: Partial<AiSettingsView>) => {
    setSaved(false);
    setDraft((current) => (current ? { ...current, ...patch } : current));
  };

  async function save() {
    if (!draft) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const stored = await client.api.updateAiSettings({
        enabled: draft.enabled,
        instructions: draft.instructions,
        new_conversation_status: draft.new_conversation_status,
      });
      setSettings(stored);
      setDraft(stored);
      setSaved(true);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="settings">
      <h1>Settings</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {settings === null || draft === null ? (
        !error && <p class="muted">Loading…</p>
      ) : !settings.available ? (
        <section class="card stack" aria-labelledby="ai-heading">
          <h2 id="ai-heading">Automatic answers</h2>
          <p class="muted">
            Automatic answers are not set up on this server. They need a language model: the
            server's administrator sets <code>AI_BASE_URL</code> and <code>AI_MODEL</code>, and this
            page then lets you switch them on.
          </p>
        </section>
      ) : (
        <form
          class="card stack"
          aria-labelledby="ai-heading"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <h2 id="ai-heading">Automatic answers</h2>
          <p class="muted small">
            A language model answers customers in conversations whose status is "Automatic answers",
            until a person replies or the model hands the conversation over.
          </p>
          <label class="check-field">
            <input
              type="checkbox"
              checked={draft.enabled}
              onChange={(event) => change({ enabled: event.currentTarget.checked })}
            />
            <span>Automatic answers</span>
          </label>
          <div class="field">
            {/* The counter stays outside the label, so the box's name is "Instructions" alone. */}
            <label for="instructions">Instructions</label>
            <textarea
              id="instructions"
              name="instructions"
              rows={8}
              maxLength={MAX_INSTRUCTIONS}
              aria-describedby="instructions-count"
              placeholder="What you sell, where you ship, opening hours, what to hand over to a person…"
              value={draft.instructions}
              onInput={(event) => change({ instructions: event.currentTarget.value })}
            />
            <span id="instructions-count" class="counter muted small">
              {draft.instructions.length} / {MAX_INSTRUCTIONS} characters
            </span>
          </div>
          <label class="field">
            <span>New conversations</span>
            <select
              name="new_conversation_status"
              value={draft.new_conversation_status}
              onChange={(event) =>
                change({ new_conversation_status: event.currentTarget.value as NewStatus })
              }
            >
              <option value="active">Answered automatically</option>
              <option value="support_active">Handled by a person</option>
            </select>
          </label>
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={busy}>
              Save
            </button>
            <span role="status" class="saved">
              {saved ? "Saved" : ""}
            </span>
          </div>
        </form>
      )}
    </div>
  );
}
