// A TCP proxy on 127.0.0.1 in front of a real server, which can stop forwarding: a network partition between the app
// and its database, with both ends' connections still open. While stalled, bytes are held, as TCP keeps
// retransmitting them; `resume()` delivers them, as a healed network would, ends included.
import { createServer, Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Stop forwarding in both directions; connections stay open and new ones are accepted but get no answer. */
  stall(): void;
  /** Forward again, held bytes first. */
  resume(): void;
  close(): Promise<void>;
}

type Held = Buffer | "end";

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let stalled = false;
  const flushers = new Set<() => void>();
  const sockets = new Set<Socket>();

  /** Forward `from` to `to`, holding what arrives while stalled. */
  function forward(from: Socket, to: Socket): void {
    const held: Held[] = [];
    const deliver = (item: Held) => (item === "end" ? to.end() : to.write(item));
    const flush = () => {
      for (const item of held.splice(0)) deliver(item);
    };
    flushers.add(flush);
    from.on("data", (chunk) => (stalled ? held.push(chunk) : deliver(chunk)));
    from.on("end", () => (stalled ? held.push("end") : deliver("end")));
    from.on("close", () => {
      if (!stalled) flushers.delete(flush);
    });
  }

  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = new Socket({ allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    upstream.connect(target.port, target.host);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the proxy has no port");

  return {
    port: address.port,
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const flush of flushers) flush();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
