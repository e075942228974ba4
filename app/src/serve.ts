// Runs the app on its port until SIGTERM (or SIGINT), then shuts down gracefully. Used by server.ts (the image's
// entry point) and dev.ts.
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app";
import { serverLogDestination } from "./logger";
import type { Settings } from "./settings";

export interface RunningServer {
  readonly app: FastifyInstance;
  /** Resolves with the exit code once the server has shut down (after a signal or `shutdown()`). */
  readonly stopped: Promise<number>;
  shutdown(reason: string): Promise<number>;
}

/**
 * The server's connections and how many requests each has in flight: a request is in flight from the moment Node
 * hands it to the app until its response is done. A connection with none has nothing to lose when it is closed: it
 * is idle between keep-alive requests, or has sent nothing yet (a load balancer's TCP check, a pre-opened
 * connection), or only part of a request's headers, which nothing has acted on.
 * Node's own closeIdleConnections() does not close the last two: they count as busy until their headers arrive
 * (node lib/_http_server.js, closeIdleConnections, and the ConnectionsList in src/node_http_parser.cc), so
 * server.close() would wait for them until the grace period runs out.
 */
class Connections {
  private readonly inFlight = new Map<Socket, number>();
  private draining = false;

  constructor(server: Server) {
    server.on("connection", (socket: Socket) => {
      this.inFlight.set(socket, 0);
      socket.once("close", () => this.inFlight.delete(socket));
      if (this.draining) this.closeWhenIdle(socket);
    });
    server.on("request", (request, response) => {
      const socket = request.socket;
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
      response.once("close", () => {
        const count = this.inFlight.get(socket);
        if (count === undefined) return; // the connection is gone already
        this.inFlight.set(socket, count - 1);
        if (this.draining) this.closeWhenIdle(socket);
      });
    });
  }

  /** From now on, close every connection as soon as it has no request in flight, starting with those idle now. */
  drain(): void {
    this.draining = true;
    for (const socket of this.inFlight.keys()) this.closeWhenIdle(socket);
  }

  /** Requests that have not been answered yet, summed over every connection. */
  requestsInFlight(): number {
    let total = 0;
    for (const count of this.inFlight.values()) total += count;
    return total;
  }

  private closeWhenIdle(socket: Socket): void {
    if ((this.inFlight.get(socket) ?? 0) > 0 || socket.destroyed) return;
    // end() first so that a response still in the socket's buffer is sent, then destroy: a client that never sends
    // its FIN (a stalled one) must not keep the connection, and so the process, alive.
    socket.end(() => socket.destroy());
  }
}

export async function serve(settings: Settings): Promise<RunningServer> {
  const logs = serverLogDestination();
  const app = buildApp(settings, { logStream: logs });
  const { port, host, version, shutdown_grace_seconds: graceSeconds } = settings.application;
  // The first line says which build is running (deployments set APP_APPLICATION__VERSION to the image's content hash).
  app.log.info({ host, port }, `newsletter ${version} starting`);
  await app.listen({ port, host });
  // Lines are written in batches (logger.ts, serverLogDestination): the start's lines go out now, not up to a flush
  // interval later, so whoever watches a deploy sees at once which build answers.
  logs.flush();
  const connections = new Connections(app.server);

  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  let closing: Promise<number> | undefined;

  // Stop accepting connections, close those with no request in flight, let in-flight requests finish (Fastify's
  // close waits for them and answers new requests on open connections with 503), close the pool, exit 0. Requests
  // still running after the grace period are cut off, and only then is the exit code 1. Without this handler, Node
  // as PID 1 ignores SIGTERM and the platform kills it after its own timeout.
  const shutdown = (reason: string): Promise<number> => {
    if (closing !== undefined) {
      // Orchestrators resend SIGTERM; a second signal must not cut what the first one lets finish.
      app.log.info({ reason, requestsInFlight: connections.requestsInFlight() }, "already shutting down");
      return closing;
    }
    closing = new Promise<number>((resolve) => {
      app.log.info({ reason, graceSeconds }, "shutting down");
      const timer = setTimeout(() => {
        const cut = connections.requestsInFlight();
        app.log.warn({ graceSeconds, requestsCut: cut }, "grace period over: closing the connections still open");
        app.server.closeAllConnections();
        resolve(cut > 0 ? 1 : 0);
      }, graceSeconds * 1000);
      app.close().then(
        () => {
          clearTimeout(timer);
          app.log.info("stopped");
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(timer);
          app.log.error({ err: error }, "shutdown failed");
          resolve(1);
        },
      );
      connections.drain();
    }).then((code) => {
      resolveStopped(code);
      return code;
    });
    return closing;
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  return { app, stopped, shutdown };
}
