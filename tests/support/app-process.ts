// The bundled app (app/dist/server.js, migrate.js) run as its own process against the test Postgres. Shared by
// tests/app and bench/app.ts, so nothing here imports vitest.
import type { ChildProcess } from "node:child_process";
import { databaseEnv as contractEnv } from "../../infra/env";
import { HEALTH_CHECK_PATH } from "../../infra/image";
import { waitFor200 } from "./ports";
import type { TestPostgres } from "./postgres";

/**
 * The APP_* variables that point the app at `database` on the test server, from the env contract every deployment
 * target uses (infra/env.ts), so the tests speak exactly what App Platform and the local stack inject.
 */
export function databaseEnv(pg: TestPostgres, database: string): Record<string, string> {
  const connection = {
    host: pg.host,
    port: String(pg.port),
    username: pg.user,
    password: pg.password,
    databaseName: database,
  };
  return Object.fromEntries(
    contractEnv("local", connection)
      .filter((v) => v.name !== "APP_ENVIRONMENT")
      .map((v) => [v.name, String(v.value)]),
  );
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
export function untilListening(server: ChildProcess, url: string, timeoutMs = 15_000): Promise<void> {
  return waitFor200(`${url}${HEALTH_CHECK_PATH}`, {
    timeoutMs,
    stillRunning: async () => server.exitCode === null && server.signalCode === null,
    describeFailure: async () => `the server process: exit ${server.exitCode ?? server.signalCode ?? "none yet"}`,
  });
}
