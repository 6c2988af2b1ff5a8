import { ApiError } from "./errors.js";

/** The `fetch` the SDK calls; the global one unless the app passes its own. */
export type FetchLike = typeof fetch;

/** Query values; `undefined` and `null` are left out of the URL. */
export type Query = Record<string, string | number | null | undefined>;

/** One JSON request; resolves with the parsed body, or throws {@link ApiError}. */
export async function requestJson<T>(
  fetchImpl: FetchLike,
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; query?: Query; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetchImpl(baseUrl + path + queryString(options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (err) {
    throw new ApiError(0, "network_error", "The server could not be reached", { cause: err });
  }
  const body = parseBody(await response.text());
  if (!response.ok) throw ApiError.fromBody(response.status, body);
  return body as T;
}

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** An answer's body: its JSON, the text itself when it is not JSON, `null` when empty. */
export function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
