import { useState } from "preact/hooks";
import { ApiError, type FikoClient } from "../sdk.js";

function describe(error: unknown, mode: "sign-in" | "register"): string {
  if (error instanceof ApiError && error.status !== 0) {
    if (mode === "sign-in" && error.status === 401) return "Wrong username or password.";
    if (error.status === 409) return "That username is taken.";
    if (error.status === 403) return "Registration is switched off on this server.";
    if (error.status === 429) return "Too many attempts. Wait a few minutes and try again.";
    return error.message;
  }
  return "The server could not be reached. Check your connection and try again.";
}

/** Sign in, or create an account (which signs in too); the App switches screens on success. */
export function SignIn({ client, expired }: { client: FikoClient; expired: boolean }) {
  const [mode, setMode] = useState<"sign-in" | "register">("sign-in");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const username = String(data.get("username") ?? "").trim();
    const password = String(data.get("password") ?? "");
    setBusy(true);
    setError(null);
    try {
      if (mode === "sign-in") await client.signIn(username, password);
      else {
        const firstName = String(data.get("first_name") ?? "").trim();
        await client.register({
          username,
          password,
          ...(firstName ? { first_name: firstName } : {}),
        });
      }
    } catch (err) {
      setError(describe(err, mode));
      setBusy(false);
    }
  }

  const registering = mode === "register";
  return (
    <main class="auth">
      <div class="auth-card">
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true" />
          Fiko Chat
        </div>
        <h1>{registering ? "Create your account" : "Sign in to your inbox"}</h1>
        {expired && !error && <p class="note">Your session ended. Please sign in again.</p>}
        <form onSubmit={submit} class="stack">
          <label class="field">
            <span>Username</span>
            <input name="username" autocomplete="username" required />
          </label>
          <label class="field">
            <span>Password</span>
            <input
              name="password"
              type="password"
              autocomplete={registering ? "new-password" : "current-password"}
              required
            />
          </label>
          {registering && (
            <label class="field">
              <span>
                First name{" "}
                <span class="muted" aria-hidden="true">
                  (optional)
                </span>
              </span>
              <input name="first_name" autocomplete="given-name" />
            </label>
          )}
          {error && (
            <p role="alert" class="error">
              {error}
            </p>
          )}
          <button type="submit" class="button primary" disabled={busy}>
            {registering ? "Create account" : "Sign in"}
          </button>
        </form>
        <p class="auth-switch">
          {registering ? "Already have an account?" : "New to Fiko Chat?"}{" "}
          <button
            type="button"
            class="link-button"
            onClick={() => {
              setMode(registering ? "sign-in" : "register");
              setError(null);
            }}
          >
            {registering ? "Use an existing account" : "Create account"}
          </button>
        </p>
      </div>
    </main>
  );
}
