import { render } from "preact";
import { App } from "./components/app.js";
import { browserTokenStorage, FikoClient } from "./sdk.js";

// Same origin as the API ("" base URL); tokens in localStorage so that a reload stays signed in.
const client = new FikoClient({ baseUrl: "", storage: browserTokenStorage(window.localStorage) });

const root = document.getElementById("app");
if (root) render(<App client={client} />, root);
