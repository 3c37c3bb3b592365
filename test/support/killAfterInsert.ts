// A crash between "ClickHouse committed the batch" and "the sink acked its messages", made from
// outside the sink: an HTTP proxy in front of ClickHouse passes every request through and, when
// the server has answered 200 to the first INSERT into the watched table, SIGKILLs the sink
// before the answer reaches it. The rows are stored, the messages never acked — the state the
// sink's exactly-once check must recover from.
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface KillAfterInsert {
  /** Point NETPULSE_CLICKHOUSE_URL here. */
  readonly url: string;
  /** The process to kill (set once it is started). */
  victim: number | undefined;
  /** Whether the kill happened. */
  readonly killed: () => boolean;
  readonly close: () => Promise<void>;
}

const isInsertInto = (req: IncomingMessage, table: string): boolean => {
  const query = new URL(req.url ?? "/", "http://x").searchParams.get("query") ?? "";
  return new RegExp(`^\\s*INSERT\\s+INTO\\s+\\S*\\b${table}\\b`, "i").test(query);
};

export const killAfterInsert = async (target: string, table: string): Promise<KillAfterInsert> => {
  const upstream = new URL(target);
  let killed = false;
  const state = { victim: undefined as number | undefined };
  const server = createServer((req, res) => {
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (!killed && answer.statusCode === 200 && isInsertInto(req, table) && state.victim !== undefined) {
          killed = true;
          process.kill(state.victim, "SIGKILL");
          answer.resume();
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => req.socket.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get victim() {
      return state.victim;
    },
    set victim(pid: number | undefined) {
      state.victim = pid;
    },
    killed: () => killed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
