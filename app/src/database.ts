// The connection pool and how its failures map to HTTP: a database that can't be reached is a 503, never a 500
// and never a hang. The pool is lazy, so the server starts (and /health_check answers) while Postgres is down.
import type { ConnectionOptions } from "node:tls";
import pg from "pg";
import type { DatabaseSettings } from "./settings";

// The time budget of a request that needs the database: it answers within about 2 s, with success or a 503, however
// Postgres fails. Waiting for a connection and running the statement each have a slice, and the slices add up to
// less than 2 s:
// - CONNECTION_TIMEOUT_MS: a free pooled connection, or a new one (refused, unreachable, a server that accepts the
//   TCP connection and then says nothing);
// - STATEMENT_TIMEOUT_MS / LOCK_TIMEOUT_MS: Postgres itself cancels a statement that runs or waits for a lock too
//   long (https://www.postgresql.org/docs/current/runtime-config-client.html). Because the server cancels, the
//   INSERT is rolled back: a 503 for a slow statement or a lock wait means nothing was stored;
// - QUERY_TIMEOUT_MS: the client stops waiting when no answer comes at all (a partition, a stalled proxy), a little
//   after the server's own cancel would have answered. This is the one 503 that can hide a stored row: the INSERT
//   may have reached Postgres and been carried out, then or once the network recovers, with its answer lost.
//   Subscribing is idempotent (one row per address), so a retry is safe either way.

/** How long a request waits for a connection (a new one, or a free one from a busy pool) before it gets a 503. */
export const CONNECTION_TIMEOUT_MS = 1_000;
/** Server side: the longest a statement may run, lock waits included. */
export const STATEMENT_TIMEOUT_MS = 600;
/** Server side: the longest a statement may wait for one lock (a migration's or an operator's). */
export const LOCK_TIMEOUT_MS = 500;
/** Client side: a query on a connection that stalls fails instead of holding the request. */
export const QUERY_TIMEOUT_MS = 800;

/**
 * TLS for the connection, with libpq's modes in mind (https://www.postgresql.org/docs/current/libpq-ssl.html):
 * - `require_ssl` + `ca_cert`: like `verify-full`. The chain must lead to that CA and the certificate must name the
 *   host we dialled; this is what stops a man in the middle. DigitalOcean's managed Postgres signs with a private
 *   CA, which App Platform hands over as the database component's `${db.CA_CERT}`.
 * - `require_ssl` alone: like `require`. Encrypted, but the server is not authenticated, so a passive eavesdropper
 *   learns nothing while an active man in the middle could still pose as the server. Acceptable only where the
 *   network path is trusted; set `ca_cert` wherever you can.
 * - neither: clear text, for a Postgres on the same machine or container network.
 */
export function tlsOptions(db: Pick<DatabaseSettings, "require_ssl" | "ca_cert">): false | ConnectionOptions {
  if (!db.require_ssl) return false;
  if (db.ca_cert !== undefined) return { ca: db.ca_cert, rejectUnauthorized: true };
  return { rejectUnauthorized: false };
}

/**
 * Connections per instance. Ten serve thousands of short inserts a second; a small pool also leaves room under a
 * managed database's connection limit for the old and new instances of a rolling deploy, which the stack config
 * checks before anything is created (infra/config.ts, SERVICE_POOL_SIZE and DATABASE_CONNECTION_LIMITS).
 */
export const POOL_MAX = 10;

/** Everything pg needs to connect, from the settings. Pure, so the mapping is tested without a database. */
export function poolConfig(db: DatabaseSettings): pg.PoolConfig {
  return {
    host: db.host,
    port: db.port,
    user: db.username,
    password: db.password,
    database: db.database_name,
    ssl: tlsOptions(db),
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    max: POOL_MAX,
    application_name: "newsletter",
  };
}

/** Postgres is down, unreachable, or refusing connections: the request may succeed later, so it is a 503. */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
  readonly statusCode = 503;
}

// What "the database can't serve you right now" looks like, as opposed to "this code or query is wrong": only the
// former is a 503 (retry later); anything else is a bug, a 500 logged as an error. Reference:
// https://www.postgresql.org/docs/current/errcodes-appendix.html and https://nodejs.org/api/errors.html

/**
 * SQLSTATEs of an outage: class 08 (connection exception) but 08P01, 57P01-57P03 (admin shutdown, crash shutdown,
 * cannot connect now: a restart or failover), 53300 (too many connections), and class 28 (invalid authorization:
 * a rotated password is retryable once the deploy catches up). 08P01, protocol violation, means client and server
 * disagree about the wire protocol: a bug, not an outage. And the statements that could not run now but can later:
 * 57014 (cancelled, by statement_timeout above), 55P03 (lock_timeout), 40001 and 40P01 (a serialization failure or
 * a deadlock, which Postgres rolls back and asks to retry).
 */
function isUnavailableSqlState(code: string): boolean {
  if (code === "08P01") return false;
  return (
    /^(08|28)/.test(code) || ["57P01", "57P02", "57P03", "53300", "57014", "55P03", "40001", "40P01"].includes(code)
  );
}

/** Node's codes for a socket that could not connect, or lost its peer. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
]);

/**
 * Node's codes for a server whose certificate can't be verified (with ca_cert): we refuse to talk to it, so for this
 * request the database is unreachable, as it would be behind a broken network.
 */
const TLS_VERIFICATION_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** pg's and pg-pool's own messages, which carry no code, for a connection that could not be made or went away. */
const CONNECTION_LOST_MESSAGES = [
  /^timeout exceeded when trying to connect$/, // pg-pool: no connection free or made within connectionTimeoutMillis
  /^Connection terminated\b/, // "... unexpectedly", "... due to connection timeout", or ended while in use
  /^Query read timeout$/, // query_timeout: the server stopped answering mid-query
  /^Client has encountered a connection error and is not queryable$/,
  /^The server does not support SSL connections$/,
  /^There was an error establishing an SSL connection$/,
];

/** Is this error about reaching the database (a 503), as opposed to a bug in the code or a query (a 500)? */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (error instanceof pg.DatabaseError) return typeof code === "string" && isUnavailableSqlState(code);
  if (typeof code === "string" && (NETWORK_CODES.has(code) || TLS_VERIFICATION_CODES.has(code))) return true;
  return CONNECTION_LOST_MESSAGES.some((pattern) => pattern.test(error.message));
}

/**
 * The message and code of a connection failure, with the password cut out wherever it might appear, and nothing
 * else of the original error: pg errors can hang on to the client and its configuration, and a logger that
 * serialises `cause` would print them.
 */
export function scrubbed(error: unknown, password: string): DatabaseUnavailableError {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  const safe = redact(`database unavailable: ${message}${typeof code === "string" ? ` (${code})` : ""}`, password);
  return new DatabaseUnavailableError(safe);
}

/** `text` with every occurrence of `secret` replaced. Empty secrets are left alone (they'd match everywhere). */
export function redact(text: string, secret: string): string {
  return secret === "" ? text : text.split(secret).join("[redacted]");
}

export interface Database {
  /** Run one statement on a pooled connection. Connection failures reject with DatabaseUnavailableError. */
  query(text: string, values?: readonly unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

export interface DatabaseLogger {
  warn(object: object, message: string): void;
}

/** A lazy pool: nothing connects until the first query, and a dead connection is replaced on the next one. */
export function createDatabase(settings: DatabaseSettings, log: DatabaseLogger): Database {
  const pool = new pg.Pool({
    ...poolConfig(settings),
    // Sent in each connection's startup packet, so every session of the service has them; the migration job, which
    // shares poolConfig, does not (an index build may rightly take minutes).
    statement_timeout: STATEMENT_TIMEOUT_MS,
    lock_timeout: LOCK_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // An idle client whose server goes away emits 'error' on the pool; unhandled, it would crash the process.
  // https://node-postgres.com/apis/pool#error
  pool.on("error", (error) => log.warn({ err: scrubbed(error, settings.password) }, "idle database connection lost"));
  return {
    async query(text, values) {
      try {
        return await pool.query(text, values as unknown[] | undefined);
      } catch (error) {
        if (isUnavailable(error)) throw scrubbed(error, settings.password);
        throw error;
      }
    },
    close: () => pool.end(),
  };
}
