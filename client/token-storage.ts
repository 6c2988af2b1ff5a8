/** The two tokens of a signed-in user. */
export interface StoredTokens {
  access: string;
  refresh: string;
}

/** Where the client keeps its tokens between page loads (or not at all). */
export interface TokenStorage {
  load(): StoredTokens | null;
  /** `null` forgets them. */
  save(tokens: StoredTokens | null): void;
}

/** Tokens kept in memory only: gone when the process ends. The default. */
export function memoryTokenStorage(): TokenStorage {
  let tokens: StoredTokens | null = null;
  return {
    load: () => tokens,
    save: (next) => {
      tokens = next;
    },
  };
}

/** The part of `window.localStorage` (or `sessionStorage`) the SDK uses. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Tokens kept in Web Storage, so that a reload keeps the user signed in. */
export function browserTokenStorage(storage: KeyValueStorage, key = "fiko.tokens"): TokenStorage {
  return {
    load() {
      try {
        const parsed: unknown = JSON.parse(storage.getItem(key) ?? "null");
        if (typeof parsed !== "object" || parsed === null) return null;
        const { access, refresh } = parsed as Record<string, unknown>;
        return typeof access === "string" && typeof refresh === "string"
          ? { access, refresh }
          : null;
      } catch {
        return null;
      }
    },
    save(tokens) {
      if (tokens) storage.setItem(key, JSON.stringify(tokens));
      else storage.removeItem(key);
    },
  };
}
