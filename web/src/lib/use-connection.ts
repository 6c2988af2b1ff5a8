import { useEffect, useState } from "preact/hooks";
import type { ConnectionState, FikoClient } from "../sdk.js";

export function useConnection(client: FikoClient): ConnectionState {
  const [state, setState] = useState<ConnectionState>(client.connection);
  useEffect(() => {
    setState(client.connection);
    return client.onConnection(setState);
  }, [client]);
  return state;
}
