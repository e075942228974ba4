// Applies the SQL migrations in app/migrations with node-pg-migrate (https://salsita.github.io/node-pg-migrate/).
// Safe to run twice (applied migrations are recorded in `pgmigrations`) and two at once (an advisory lock).
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import pg from "pg";
import { poolConfig, scrubbed } from "./database";
import type { Settings } from "./settings";

/**
 * The migrations folder, found from this file rather than from the working directory: `../migrations` from
 * app/src/migrations.ts and, once bundled, from /app/dist/migrate.js (the image's layout).
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

/** A migration waits this long for a connection: longer than a request, since a deploy's job can afford it. */
const MIGRATE_CONNECTION_TIMEOUT_MS = 15_000;

export interface MigrationLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Apply every pending migration in one transaction; resolves with the names applied (none when up to date). */
export async function runMigrations(settings: Settings, log: MigrationLogger): Promise<string[]> {
  const { max: _max, query_timeout: _queryTimeout, ...connection } = poolConfig(settings.database);
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: MIGRATE_CONNECTION_TIMEOUT_MS });
  client.on("error", (error) => log.warn(scrubbed(error, settings.database.password).message));
  try {
    // We connect ourselves so that a connection failure is reported without the client's configuration.
    await client.connect();
  } catch (error) {
    throw scrubbed(error, settings.database.password);
  }
  try {
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: "pgmigrations",
      direction: "up",
      // Plain SQL files, `-- Up Migration` / `-- Down Migration` sections (node-pg-migrate's SQL loader).
      migrationLoaderStrategies: [{ extensions: [".sql"], loader: "sql" }],
      checkOrder: true,
      singleTransaction: true,
      // Two copies at once (two deploys, a job retried while the first still runs): the second waits on
      // node-pg-migrate's advisory lock, then finds nothing left to do. The default, `fail`, would error instead.
      advisoryLockMode: "wait",
      logger: { debug: () => {}, info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    });
    return applied.map((migration) => migration.name);
  } finally {
    await client.end().catch(() => {});
  }
}
