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

/**
 * How long a migration waits for another one to finish before it gives up. Two jobs at once (two deploys, a job
 * retried, or the deployment App Platform starts by itself when the cluster's trusted sources change) queue on one
 * advisory lock; a migration takes seconds, so two minutes of waiting means the holder is stuck, and failing names
 * the holder, where waiting on would hang the deploy until App Platform's own deploy timeout.
 */
export const MIGRATION_LOCK_TIMEOUT_MS = 120_000;

/** The key of the advisory lock that serialises migrations: node-pg-migrate's own, so its CLI queues on it too. */
export const MIGRATION_LOCK_ID: number = PG_MIGRATE_LOCK_ID;

export interface MigrationLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RunMigrationsOptions {
  /** How long to wait for the migrations' advisory lock (default MIGRATION_LOCK_TIMEOUT_MS). */
  readonly lockTimeoutMs?: number;
}

/** Apply every pending migration in one transaction; resolves with the names applied (none when up to date). */
export async function runMigrations(
  settings: Settings,
  log: MigrationLogger,
  options: RunMigrationsOptions = {},
): Promise<string[]> {
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
    // Two copies at once: the second waits for the first, then finds nothing left to do. The lock is node-pg-migrate's
    // own (PG_MIGRATE_LOCK_ID), taken here rather than by the runner (`advisoryLockMode: "wait"`), whose wait has no
    // limit: a session lock, held through the migrations and the grants, released when this session ends.
    await acquireMigrationLock(client, options.lockTimeoutMs ?? MIGRATION_LOCK_TIMEOUT_MS);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: "pgmigrations",
      direction: "up",
      // Plain SQL files, `-- Up Migration` / `-- Down Migration` sections (node-pg-migrate's SQL loader).
      migrationLoaderStrategies: [{ extensions: [".sql"], loader: "sql" }],
      checkOrder: true,
      singleTransaction: true,
      noLock: true,
      logger: { debug: () => {}, info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    });
    await grantServiceAccess(client, settings.database);
    return applied.map((migration) => migration.name);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The advisory lock's key as Postgres shows a bigint key in pg_locks: high 32 bits in classid, low in objid. */
const LOCK_HOLDER_QUERY = `
  SELECT a.pid, a.usename, a.application_name, a.state, a.backend_start
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.classid = oid($1::bigint >> 32) AND l.objid = oid($1::bigint & 4294967295)`;

/**
 * Take the migrations' advisory lock, waiting at most `timeoutMs`. `lock_timeout` bounds the wait for any
 * heavyweight lock, advisory locks included (https://www.postgresql.org/docs/current/runtime-config-client.html,
 * lock_timeout; SQLSTATE 55P03 lock_not_available). It is reset once the lock is held, so the migrations themselves
 * wait for table locks as long as they need.
 */
async function acquireMigrationLock(client: pg.Client, timeoutMs: number): Promise<void> {
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PG_MIGRATE_LOCK_ID]);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "55P03") throw error;
    const { rows } = await client
      .query<{ pid: number; usename: string; application_name: string; state: string; backend_start: Date }>(
        LOCK_HOLDER_QUERY,
        [PG_MIGRATE_LOCK_ID],
      )
      .catch(() => ({ rows: [] }));
    const holder = rows[0];
    const who =
      holder === undefined
        ? "by a session that has since ended"
        : `by backend pid ${holder.pid} (user "${holder.usename}", application "${holder.application_name}", ` +
          `${holder.state}, connected since ${holder.backend_start.toISOString()})`;
    throw new Error(
      `gave up after ${timeoutMs / 1000} s waiting for the migrations' advisory lock ` +
        `(pg_advisory_lock(${PG_MIGRATE_LOCK_ID}), node-pg-migrate's PG_MIGRATE_LOCK_ID), held ${who}. ` +
        "Another migration is running or is stuck; if none is running, end that session " +
        `(SELECT pg_terminate_backend(${holder?.pid ?? "<pid>"})) and deploy again`,
    );
  }
  await client.query("RESET lock_timeout");
}

/**
 * What the service's role may do, and nothing more: connect to this database, look up names in `public`, and insert
 * subscriptions (app/src/subscriptions.ts says why INSERT alone is enough; tests/app/database.test.ts serves with such
 * a role). Add a line when a migration creates something the service uses. An explicit list rather than "ALL
 * TABLES": a compromised service can't read the list of subscribers, and nothing the job creates for itself (the
 * pgmigrations ledger) leaks to the service.
 * - CONNECT: a database created through DigitalOcean's API belongs to `doadmin`, and a user created there "receive[s]
 *   minimal permissions by default" (docs.digitalocean.com/products/databases/postgresql/how-to/
 *   modify-user-privileges); a cluster may also have CONNECT revoked from PUBLIC, which leaves the app user outside.
 * - USAGE on `public`: PostgreSQL 15+ still grants it to PUBLIC, but a hardened cluster may not.
 * GRANT is idempotent: granting a privilege the role already has changes nothing and raises nothing.
 */
export const SERVICE_GRANTS = [
  "GRANT CONNECT ON DATABASE {database} TO {role}",
  "GRANT USAGE ON SCHEMA public TO {role}",
  "GRANT INSERT ON TABLE subscriptions TO {role}",
] as const;

/**
 * The least-privileged service role gets what SERVICE_GRANTS lists on what the migrations created. On PostgreSQL 15+
 * a role created through a provider's API can't CREATE in schema `public`, so the job migrates as a more privileged
 * role that owns the database and the tables (DigitalOcean's `doadmin`); see infra/env.ts
 * (SERVICE_USERNAME_VARIABLE). Runs on every deploy, under the migrations' advisory lock (two jobs granting on one
 * table at once can fail with "tuple concurrently updated").
 */
async function grantServiceAccess(client: pg.Client, db: Settings["database"]): Promise<void> {
  const role = db.service_username;
  if (role === undefined || role === db.username) return;
  await client.query("BEGIN");
  try {
    for (const grant of SERVICE_GRANTS) {
      await client.query(
        grant
          .replace("{role}", client.escapeIdentifier(role))
          .replace("{database}", client.escapeIdentifier(db.database_name)),
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
