import { ApiError } from "./errors.js";
import { type FetchLike, parseBody } from "./http.js";

// The few members of the browser's XMLHttpRequest used here, so the SDK compiles without the
// DOM library and runs in Node, where there is none.
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  upload: {
    onprogress:
      | ((event: { lengthComputable: boolean; loaded: number; total: number }) => void)
      | null;
  };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  status: number;
  responseText: string;
  send(body: FormData): void;
}
type XhrConstructor = new () => XhrLike;

/** How far an upload got: bytes sent of the request body's total. */
export interface UploadProgress {
  sent: number;
  total: number;
}

/** A file for {@link uploadForm}: a browser `File`, or any `Blob` with a name. */
export interface UploadFile {
  blob: Blob;
  name: string;
}

/**
 * Posts `multipart/form-data` and resolves with the parsed JSON answer, or throws
 * {@link ApiError}. The text fields go before the file: the server reads the form as a stream,
 * so it knows the caption and `client_id` by the time the bytes arrive.
 *
 * In a browser the request goes through `XMLHttpRequest`, the only browser API that reports
 * upload progress; elsewhere (Node) through `fetch`, which reports one step at the end.
 */
export async function uploadForm<T>(
  fetchImpl: FetchLike,
  url: string,
  token: string,
  fields: Record<string, string | undefined>,
  file: UploadFile,
  onProgress?: (progress: UploadProgress) => void,
): Promise<T> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) form.append(name, value);
  }
  form.append("file", file.blob, file.name);
  const XHR = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
  if (XHR) return viaXhr<T>(XHR, url, token, form, onProgress);
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers: { accept: "application/json", authorization: `Bearer ${token}` },
      body: form,
    });
  } catch (err) {
    throw new ApiError(0, "network_error", "The upload did not reach the server", { cause: err });
  }
  const body = parseBody(await response.text());
  if (!response.ok) throw ApiError.fromBody(response.status, body);
  onProgress?.({ sent: file.blob.size, total: file.blob.size });
  return body as T;
}

function viaXhr<T>(
  XHR: XhrConstructor,
  url: string,
  token: string,
  form: FormData,
  onProgress?: (progress: UploadProgress) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const request = new XHR();
    request.open("POST", url);
    request.setRequestHeader("accept", "application/json");
    request.setRequestHeader("authorization", `Bearer ${token}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.({ sent: event.loaded, total: event.total });
    };
    request.onload = () => {
      const body = parseBody(request.responseText);
      if (request.status >= 200 && request.status < 300) resolve(body as T);
      else reject(ApiError.fromBody(request.status, body));
    };
    request.onerror = () =>
      reject(new ApiError(0, "network_error", "The upload did not reach the server"));
    request.onabort = request.onerror;
    request.send(form);
  });
}
