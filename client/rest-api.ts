import { ApiError } from "./errors.js";
import { type FetchLike, type Query, requestJson } from "./http.js";
import type { TokenManager } from "./token-manager.js";
import { type UploadFile, type UploadProgress, uploadForm } from "./upload.js";
import type {
  AiSettingsView,
  ChannelListItem,
  ChannelView,
  ConversationPage,
  ConversationStatus,
  ConversationView,
  MessagePage,
  MessageView,
  Platform,
  ReadReceipt,
  UserView,
} from "./wire.js";

/** Query of `GET /api/conversations/`. */
export interface ListConversationsQuery {
  status?: ConversationStatus;
  source?: Platform;
  search?: string;
  /** 1..100, default 50. */
  limit?: number;
  cursor?: string | null;
}

/** Query of `GET /api/conversations/{id}/messages/`. */
export interface GetMessagesQuery {
  before_seq?: number;
  after_seq?: number;
  /** 1..100, default 50. */
  limit?: number;
}

/** Body of `PUT /api/ai/settings/`: any of the settings; `available` is the server's to say. */
export type AiSettingsPatch = Partial<Omit<AiSettingsView, "available">>;

/**
 * The REST API of protocol.md sections 2, 7, 8 and 11, typed. Every call carries the bearer token;
 * a 401 refreshes the token once and repeats the call. Failures throw {@link ApiError}.
 */
export class RestApi {
  constructor(private readonly deps: { baseUrl: string; fetch: FetchLike; tokens: TokenManager }) {}

  /** The signed-in user. */
  me(): Promise<UserView> {
    return this.call("GET", "/api/auth/me/");
  }

  /** A page of conversations, newest activity first. */
  listConversations(query: ListConversationsQuery = {}): Promise<ConversationPage> {
    return this.call("GET", "/api/conversations/", { query: { ...query } });
  }

  /** One conversation. */
  getConversation(id: string): Promise<ConversationView> {
    return this.call("GET", `/api/conversations/${encodeURIComponent(id)}/`);
  }

  /** Changes status and/or priority; answers the updated conversation. */
  updateConversation(
    id: string,
    changes: { status?: ConversationStatus; priority?: number },
  ): Promise<ConversationView> {
    return this.call("PATCH", `/api/conversations/${encodeURIComponent(id)}/`, { body: changes });
  }

  /** Messages oldest first: before `before_seq`, after `after_seq`, or the newest. */
  getMessages(id: string, query: GetMessagesQuery = {}): Promise<MessagePage> {
    return this.call("GET", `/api/conversations/${encodeURIComponent(id)}/messages/`, {
      query: { ...query },
    });
  }

  /** Stores a support message; the same `client_id` again answers the stored one. */
  sendMessage(id: string, body: { content: string; client_id?: string }): Promise<MessageView> {
    return this.call("POST", `/api/conversations/${encodeURIComponent(id)}/messages/`, { body });
  }

  /**
   * Stores a support message with a file (protocol.md section 7b): `content` is the caption.
   * The same `client_id` again answers the stored message. Over the server's upload limit the
   * error is `413` with code `too_large`; an empty file is a `400`.
   */
  sendFile(
    id: string,
    file: UploadFile,
    fields: { content?: string; client_id?: string } = {},
    onProgress?: (progress: UploadProgress) => void,
  ): Promise<MessageView> {
    const { baseUrl, fetch } = this.deps;
    const url = `${baseUrl}/api/conversations/${encodeURIComponent(id)}/messages/`;
    return this.withToken((token) =>
      uploadForm<MessageView>(fetch, url, token, fields, file, onProgress),
    );
  }

  /** Marks the conversation read. */
  markRead(id: string): Promise<ReadReceipt> {
    return this.call("POST", `/api/conversations/${encodeURIComponent(id)}/read/`);
  }

  /** The user's connected channels. */
  listChannels(): Promise<ChannelListItem[]> {
    return this.call("GET", "/api/channels/");
  }

  /** Connects a Telegram bot by its token. */
  connectTelegram(botToken: string): Promise<ChannelView> {
    return this.call("POST", "/api/channels/", {
      body: { platform: "telegram", bot_token: botToken },
    });
  }

  /** Connects an Instagram account. */
  connectInstagram(accountId: string, accessToken: string): Promise<ChannelView> {
    return this.call("POST", "/api/channels/", {
      body: { platform: "instagram", account_id: accountId, access_token: accessToken },
    });
  }

  /** Removes a channel. */
  async removeChannel(id: string): Promise<void> {
    await this.call<null>("DELETE", `/api/channels/${encodeURIComponent(id)}/`);
  }

  /**
   * The user's automatic-answer settings (protocol.md section 11); `available` is false while
   * the server has no model configured.
   */
  getAiSettings(): Promise<AiSettingsView> {
    return this.call("GET", "/api/ai/settings/");
  }

  /**
   * Changes any of `enabled`, `instructions` (at most 8000 characters) and
   * `new_conversation_status`; answers the whole settings object. A bad value is a `400`
   * {@link ApiError} and changes nothing.
   */
  updateAiSettings(patch: AiSettingsPatch): Promise<AiSettingsView> {
    return this.call("PUT", "/api/ai/settings/", { body: patch });
  }

  private call<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query } = {},
  ): Promise<T> {
    const { baseUrl, fetch } = this.deps;
    return this.withToken((token) =>
      requestJson<T>(fetch, baseUrl, method, path, { ...options, token }),
    );
  }

  /** Runs `request` with the access token; a 401 refreshes it and runs the request once more. */
  private async withToken<T>(request: (token: string) => Promise<T>): Promise<T> {
    const { tokens } = this.deps;
    const token = await tokens.accessToken();
    try {
      return await request(token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      // Once: a second 401 with a fresh token is the answer, not a stale token.
      return request(await tokens.rejected(token));
    }
  }
}
