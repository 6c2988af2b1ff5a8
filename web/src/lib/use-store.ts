import { useLayoutEffect, useReducer, useRef } from "preact/hooks";

/** What the SDK's live stores offer: a snapshot that is a new object on every change. */
export interface ExternalStore<T> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): T;
}

/**
 * Renders from an SDK store, like React's `useSyncExternalStore` (without preact/compat): the
 * snapshot is read during render, and a change re-renders only when the snapshot object moved.
 */
export function useStore<T>(store: ExternalStore<T>): T {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const snapshot = store.getSnapshot();
  const rendered = useRef(snapshot);
  rendered.current = snapshot;
  useLayoutEffect(() => {
    const check = () => {
      if (store.getSnapshot() !== rendered.current) rerender(undefined);
    };
    const unsubscribe = store.subscribe(check);
    // A change between this render and the subscription would otherwise be missed.
    check();
    return unsubscribe;
  }, [store]);
  return snapshot;
}
