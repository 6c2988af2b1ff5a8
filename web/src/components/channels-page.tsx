import { useEffect, useState } from "preact/hooks";
import { SOURCE_LABELS } from "../lib/format.js";
import { ApiError, type ChannelView, type FikoClient } from "../sdk.js";

const message = (err: unknown) =>
  err instanceof ApiError ? err.message : "The server could not be reached. Try again.";

/** Connect a Telegram bot or an Instagram account, and remove connected ones. */
export function ChannelsPage({ client }: { client: FikoClient }) {
  const [channels, setChannels] = useState<ChannelView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = () =>
    client.api.listChannels().then(setChannels, (err: unknown) => setError(message(err)));
  useEffect(() => {
    void reload();
  }, [client]);

  async function run(action: () => Promise<unknown>, form?: HTMLFormElement) {
    setBusy(true);
    setError(null);
    try {
      await action();
      form?.reset();
      await reload();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  const field = (form: HTMLFormElement, name: string) =>
    String(new FormData(form).get(name) ?? "").trim();

  return (
    <div class="channels">
      <h1>Channels</h1>
      <p class="muted">
        Customers write to your Telegram bot or Instagram account; their messages arrive in the
        inbox, and your replies go back the same way.
      </p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="channel-forms">
        <form
          class="card stack"
          onSubmit={(event) => {
            event.preventDefault();
            const form = event.currentTarget;
            void run(() => client.api.connectTelegram(field(form, "bot_token")), form);
          }}
        >
          <h2>Telegram</h2>
          <p class="muted small">
            Create a bot with @BotFather, then paste the token it gives you.
          </p>
          <label class="field">
            <span>Bot token</span>
            <input
              name="bot_token"
              required
              autocomplete="off"
              spellcheck={false}
              placeholder="123456789:AA…"
            />
          </label>
          <button type="submit" class="button primary" disabled={busy}>
            Connect Telegram
          </button>
        </form>
        <form
          class="card stack"
          onSubmit={(event) => {
            event.preventDefault();
            const form = event.currentTarget;
            void run(
              () =>
                client.api.connectInstagram(field(form, "account_id"), field(form, "access_token")),
              form,
            );
          }}
        >
          <h2>Instagram</h2>
          <p class="muted small">The Instagram account's user id and a Graph API access token.</p>
          <label class="field">
            <span>Instagram account id</span>
            <input name="account_id" required autocomplete="off" spellcheck={false} />
          </label>
          <label class="field">
            <span>Access token</span>
            <input name="access_token" required autocomplete="off" spellcheck={false} />
          </label>
          <button type="submit" class="button primary" disabled={busy}>
            Connect Instagram
          </button>
        </form>
      </div>
      <h2>Connected</h2>
      {channels === null ? (
        <p class="muted">Loading…</p>
      ) : channels.length === 0 ? (
        <p class="muted">No channels yet.</p>
      ) : (
        <ul class="channel-list" aria-label="Connected channels">
          {channels.map((channel) => (
            <li key={channel.id} class="channel">
              <span class={`chip chip-${channel.platform}`}>{SOURCE_LABELS[channel.platform]}</span>
              <span class="channel-name">{channel.name}</span>
              <button
                type="button"
                class="button danger small"
                disabled={busy}
                onClick={() => void run(() => client.api.removeChannel(channel.id))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
