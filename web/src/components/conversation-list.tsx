import { useEffect, useRef, useState } from "preact/hooks";
import { SOURCE_LABELS } from "../lib/format.js";
import { useStore } from "../lib/use-store.js";
import type { ConversationFilter, ConversationList, ConversationStatus, Platform } from "../sdk.js";
import { ConversationItem } from "./conversation-item.js";
import { StatusOptions } from "./status-options.js";

const SOURCES = Object.keys(SOURCE_LABELS) as Platform[];

/** Filters, search and the live list with paging by cursor as the end scrolls into view. */
export function ConversationListPanel({
  list,
  selectedId,
}: {
  list: ConversationList;
  selectedId: string | null;
}) {
  const state = useStore(list);
  const { filter } = state;
  const [search, setSearch] = useState(filter.search ?? "");
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);

  const apply = (change: Partial<ConversationFilter>) => {
    const next: ConversationFilter = { ...list.getSnapshot().filter, ...change };
    for (const key of Object.keys(next) as (keyof ConversationFilter)[]) {
      if (!next[key]) delete next[key];
    }
    list.setFilter(next);
  };

  // Search as the user types, once they pause.
  useEffect(() => {
    if (search.trim() === (list.getSnapshot().filter.search ?? "")) return undefined;
    const timer = setTimeout(() => apply({ search: search.trim() || undefined }), 250);
    return () => clearTimeout(timer);
  }, [search]);

  // Re-created after every page, so that an end still in view asks for the next one.
  useEffect(() => {
    const end = sentinel.current;
    if (!end || !state.hasMore || state.loading) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void list.loadMore();
      },
      { root: scroller.current, rootMargin: "200px" },
    );
    observer.observe(end);
    return () => observer.disconnect();
  }, [list, state.hasMore, state.loading, state.items.length]);

  const filtered = Boolean(filter.status || filter.source || filter.search);
  return (
    <section class="list-pane" aria-label="Conversation list">
      <div class="list-tools">
        <input
          type="search"
          class="search"
          aria-label="Search conversations"
          placeholder="Search conversations"
          value={search}
          onInput={(event) => setSearch(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") apply({ search: search.trim() || undefined });
          }}
        />
        <div class="filters">
          <label class="select-field">
            <span>Status</span>
            <select
              value={filter.status ?? ""}
              onChange={(event) =>
                apply({ status: (event.currentTarget.value || undefined) as ConversationStatus })
              }
            >
              <option value="">All</option>
              <StatusOptions />
            </select>
          </label>
          <label class="select-field">
            <span>Source</span>
            <select
              value={filter.source ?? ""}
              onChange={(event) =>
                apply({ source: (event.currentTarget.value || undefined) as Platform })
              }
            >
              <option value="">All</option>
              {SOURCES.map((source) => (
                <option key={source} value={source}>
                  {SOURCE_LABELS[source]}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div class="list-scroll" ref={scroller}>
        <ul class="conv-list" aria-label="Conversations" aria-busy={state.loading}>
          {state.items.map((conversation) => (
            <ConversationItem
              key={conversation.id}
              conversation={conversation}
              selected={conversation.id === selectedId}
            />
          ))}
        </ul>
        {state.items.length === 0 && !state.loading && (
          <p class="empty">
            {filtered
              ? "No conversations match."
              : "No conversations yet. Connect a channel, and customers' messages appear here."}
          </p>
        )}
        {state.hasMore && (
          <div ref={sentinel} class="list-more">
            <button type="button" class="link-button" onClick={() => void list.loadMore()}>
              {state.loading ? "Loading…" : "Load more conversations"}
            </button>
          </div>
        )}
      </div>
    </section>
  );
}
