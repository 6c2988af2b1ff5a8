import assert from "node:assert/strict";
import { it } from "node:test";
import { socketRoute } from "../../src/realtime/socket-routes.js";

// The socket paths as the HTTP router matched them before upgrades left it: one trailing slash
// optional, the id percent-decoded, case-sensitive; anything else is not a socket path.

it("matches the chat and list socket paths as the router did", () => {
  const cases: Array<[string, ReturnType<typeof socketRoute>]> = [
    ["/ws/chat/c_1/?token=t", { kind: "chat", conversationId: "c_1", query: "token=t" }],
    ["/ws/chat/c_1?token=t", { kind: "chat", conversationId: "c_1", query: "token=t" }],
    ["/ws/chat/c_1/", { kind: "chat", conversationId: "c_1", query: "" }],
    ["/ws/chat/a%2Fb/", { kind: "chat", conversationId: "a/b", query: "" }],
    ["/ws/chat/bad%20id!/?a=1", { kind: "chat", conversationId: "bad id!", query: "a=1" }],
    ["/ws/chat//?token=t", { kind: "chat", conversationId: "", query: "token=t" }],
    ["/ws/conversations/?token=t", { kind: "conversations", query: "token=t" }],
    ["/ws/conversations", { kind: "conversations", query: "" }],
    ["/ws/conversations/?%74oken=t", { kind: "conversations", query: "%74oken=t" }],
    ["/ws/chat/?token=t", { kind: "other" }],
    ["/ws/chat/a/b/", { kind: "other" }],
    ["/ws/chat/c_1//", { kind: "other" }],
    ["/ws/conversations//", { kind: "other" }],
    ["/ws/conversations/x", { kind: "other" }],
    ["//ws/conversations/", { kind: "other" }],
    ["/WS/conversations/", { kind: "other" }],
    ["/ws/unknown", { kind: "other" }],
    ["/", { kind: "other" }],
    ["/ws/chat/%ZZ/?token=t", { kind: "malformed" }],
    ["/x/%E2%82/", { kind: "malformed" }],
  ];
  for (const [url, expected] of cases) assert.deepEqual(socketRoute(url), expected, url);
});
