// Runs the app on its port until SIGTERM (or SIGINT), then shuts down gracefully. Used by server.ts (the image's
// entry point) and dev.ts.
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app";
import type { Settings } from "./settings";

export interface RunningServer {
  readonly app: FastifyInstance;
  /** Resolves with the exit code once the server has shut down (after a signal or `shutdown()`). */
  readonly stopped: Promise<number>;
  shutdown(reason: string): Promise<number>;
}

export async function serve(settings: Settings): Promise<RunningServer> {
  const app = buildApp(settings);
  const { port, host, version, shutdown_grace_seconds: graceSeconds } = settings.application;
  // The first line says which build is running (the image sets APP_APPLICATION__VERSION to the git SHA).
  app.log.info({ host, port }, `newsletter ${version} starting`);
  await app.listen({ port, host });

  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  let closing: Promise<number> | undefined;

  // Stop accepting connections, let in-flight requests finish (Fastify's close waits for them, answers new
  // requests on open connections with 503 and closes idle keep-alive connections), close the pool, exit 0.
  // Requests still running after the grace period are cut off and the exit code is 1. Without this handler,
  // Node as PID 1 ignores SIGTERM and the platform kills it after its own timeout.
  const shutdown = (reason: string): Promise<number> => {
    closing ??= new Promise<number>((resolve) => {
      app.log.info({ reason, graceSeconds }, "shutting down");
      const timer = setTimeout(() => {
        app.log.warn({ graceSeconds }, "grace period over: closing the connections still open");
        app.server.closeAllConnections();
        resolve(1);
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
    }).then((code) => {
      resolveStopped(code);
      return code;
    });
    return closing;
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  return { app, stopped, shutdown };
}
