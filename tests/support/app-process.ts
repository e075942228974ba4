// The bundled app (app/dist/server.js, migrate.js) run as its own process against the test Postgres. Shared by
// tests/app and bench/app.ts, so nothing here imports vitest.
import type { ChildProcess } from "node:child_process";
import type { TestPostgres } from "./postgres";

/** The APP_* variables that point the app at `database` on the test server, as a deployment sets them. */
export function databaseEnv(pg: TestPostgres, database: string): Record<string, string> {
  return {
    APP_DATABASE__HOST: pg.host,
    APP_DATABASE__PORT: String(pg.port),
    APP_DATABASE__USERNAME: pg.user,
    APP_DATABASE__PASSWORD: pg.password,
    APP_DATABASE__DATABASE_NAME: database,
  };
}

/**
 * The whole environment of an app process: the `local` configuration with `database` on the test server, plus
 * `overrides`. Nothing else is inherited but PATH, so a stray APP_* variable in the caller's shell can't leak in.
 */
export function appProcessEnv(
  pg: TestPostgres,
  database: string,
  overrides: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, APP_ENVIRONMENT: "local", ...databaseEnv(pg, database), ...overrides };
}

/** Resolves once `GET <url>/health_check` answers 200; rejects if the process ends first or the time runs out. */
export async function untilListening(server: ChildProcess, url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`the server ended (${server.exitCode ?? server.signalCode}) before it answered`);
    }
    const up = await fetch(`${url}/health_check`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server did not answer GET ${url}/health_check within ${timeoutMs / 1000} s`);
}
