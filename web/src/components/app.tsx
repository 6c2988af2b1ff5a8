import { useEffect, useState } from "preact/hooks";
import type { FikoClient, UserView } from "../sdk.js";
import { Shell } from "./shell.js";
import { SignIn } from "./sign-in.js";

type Auth =
  | { state: "loading" }
  | { state: "out"; expired: boolean }
  | { state: "in"; user: UserView };

/** Signed out, signed in, or finding out (tokens from a previous visit are being checked). */
export function App({ client }: { client: FikoClient }) {
  const [auth, setAuth] = useState<Auth>({ state: "loading" });

  useEffect(() => {
    const off = client.onAuth((event) => {
      setAuth(
        event.type === "signed_in"
          ? { state: "in", user: event.user }
          : { state: "out", expired: event.reason === "refresh_failed" },
      );
    });
    client.restore().then(
      (user) => setAuth(user ? { state: "in", user } : { state: "out", expired: false }),
      () => setAuth({ state: "out", expired: false }),
    );
    return off;
  }, [client]);

  if (auth.state === "loading") {
    return (
      <div class="splash" aria-busy="true">
        Loading…
      </div>
    );
  }
  if (auth.state === "out") return <SignIn client={client} expired={auth.expired} />;
  return <Shell client={client} user={auth.user} />;
}
