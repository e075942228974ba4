// Applies the SQL migrations in app/migrations with node-pg-migrate (https://salsita.github.io/node-pg-migrate/).
// Safe to run twice (applied migrations are recorded in `pgmigrations`) and two at once (an advisory lock).
import { fileURLToPath } from "node:url";
import { PG_MIGRATE_LOCK_ID, runner } from "node-pg-migrate";
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
    await grantServiceAccess(client, settings.database);
    return applied.map((migration) => migration.name);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * What the service's role may do, and nothing more: it only inserts subscriptions (app/src/subscriptions.ts says why
 * INSERT alone is enough; tests/app/database.test.ts serves with such a role). Add a line when a migration creates
 * something the service uses. An explicit list rather than "ALL TABLES": a compromised service can't read the list
 * of subscribers, and nothing the job creates for itself (the pgmigrations ledger) leaks to the service.
 */
export const SERVICE_GRANTS = [
  // PostgreSQL 15+ still grants USAGE on `public` to everyone, but a hardened cluster may not.
  "GRANT USAGE ON SCHEMA public TO {role}",
  "GRANT INSERT ON TABLE subscriptions TO {role}",
] as const;

/**
 * The least-privileged service role gets row access to what the migrations created. On PostgreSQL 15+ a role
 * created through a provider's API can't CREATE in schema `public`, so the job migrates as a more privileged role
 * that owns the tables; see infra/env.ts (SERVICE_USERNAME_VARIABLE). Runs on every deploy, so it is idempotent.
 */
async function grantServiceAccess(client: pg.Client, db: Settings["database"]): Promise<void> {
  const role = db.service_username;
  if (role === undefined || role === db.username) return;
  await client.query("BEGIN");
  try {
    // Under the migrations' advisory lock: two jobs granting on one table at once can fail with "tuple
    // concurrently updated".
    await client.query("SELECT pg_advisory_xact_lock($1)", [PG_MIGRATE_LOCK_ID]);
    for (const grant of SERVICE_GRANTS) await client.query(grant.replace("{role}", client.escapeIdentifier(role)));
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
