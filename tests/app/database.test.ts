import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, buildApp } from "../../app/src/app";
import { CONNECTION_TIMEOUT_MS, isUnavailable, poolConfig, tlsOptions } from "../../app/src/database";
import type { Settings } from "../../app/src/settings";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startTcpProxy } from "../support/tcp-proxy";
import { FORM, LogCapture, migratedDatabase, REPO, settingsFor, subscriptionRows } from "./helpers";

/** pg's DatabaseError as the app sees it: app/ resolves its own copy of pg, whose class is not the root copy's. */
const { DatabaseError } = createRequire(join(REPO, "app/src/database.ts"))("pg") as typeof pg;

const subscribe = (app: App, email: string) =>
  app.inject({
    method: "POST",
    url: "/subscriptions",
    headers: FORM,
    payload: `name=test&email=${encodeURIComponent(email)}`,
  });

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

describe("the database connection", () => {
  describe("which failures are an outage (503) rather than a bug (500)", () => {
    /** An error as Postgres reports it, with its SQLSTATE. */
    const sqlState = (code: string) => Object.assign(new DatabaseError("from the server", 0, "error"), { code });
    /** An error as Node reports a socket or TLS failure. */
    const nodeError = (code: string) => Object.assign(new Error(`failed (${code})`), { code });

    it.each<[string, 503 | 500, unknown]>([
      ["pg-pool's connection timeout", 503, new Error("timeout exceeded when trying to connect")],
      ["a connection that died under a query", 503, new Error("Connection terminated unexpectedly")],
      ["a connection cut by its timeout", 503, new Error("Connection terminated due to connection timeout")],
      ["a connection ended while in use", 503, new Error("Connection terminated")],
      ["a server that stopped answering mid-query", 503, new Error("Query read timeout")],
      ["a server without TLS when TLS is required", 503, new Error("The server does not support SSL connections")],
      ["connection refused", 503, nodeError("ECONNREFUSED")],
      ["connection reset", 503, nodeError("ECONNRESET")],
      ["an unknown host", 503, nodeError("ENOTFOUND")],
      ["a DNS failure that may pass", 503, nodeError("EAI_AGAIN")],
      ["a connect timeout", 503, nodeError("ETIMEDOUT")],
      ["an unreachable host", 503, nodeError("EHOSTUNREACH")],
      ["a certificate another CA signed", 503, nodeError("SELF_SIGNED_CERT_IN_CHAIN")],
      ["08006 connection failure", 503, sqlState("08006")],
      ["08001 unable to connect", 503, sqlState("08001")],
      ["57P01 admin shutdown", 503, sqlState("57P01")],
      ["57P02 crash shutdown", 503, sqlState("57P02")],
      ["57P03 cannot connect now", 503, sqlState("57P03")],
      ["53300 too many connections", 503, sqlState("53300")],
      ["28P01 a rotated password", 503, sqlState("28P01")],
      ["08P01 protocol violation", 500, sqlState("08P01")],
      ["42P01 a missing table", 500, sqlState("42P01")],
      ["42501 a missing privilege", 500, sqlState("42501")],
      ["23505 a unique violation", 500, sqlState("23505")],
      ["53100 disk full", 500, sqlState("53100")],
      ["57014 a statement cancelled by statement_timeout", 503, sqlState("57014")],
      ["55P03 a lock wait cut by lock_timeout", 503, sqlState("55P03")],
      ["40001 a serialization failure", 503, sqlState("40001")],
      ["40P01 a deadlock", 503, sqlState("40P01")],
      ["a TypeError in our code", 500, new TypeError("Cannot read properties of undefined (reading 'rows')")],
      ["a closed client used again", 500, new Error("Client was closed and is not queryable")],
      ["a pool used after end()", 500, new Error("Cannot use a pool after calling end on the pool")],
      ["an unknown error code", 500, nodeError("ERR_INVALID_ARG_TYPE")],
      ["a thrown string", 500, "connection refused"],
    ])("%s: %i", (_case, status, error) => {
      expect(isUnavailable(error) ? 503 : 500).toBe(status);
    });
  });

  describe("TLS options (libpq's modes)", () => {
    it.each([
      ["require_ssl off: clear text", { require_ssl: false }, false],
      ["require_ssl off ignores a CA", { require_ssl: false, ca_cert: "PEM" }, false],
      [
        "require_ssl with a CA: verified against it (like verify-full)",
        { require_ssl: true, ca_cert: "PEM" },
        { ca: "PEM", rejectUnauthorized: true },
      ],
      ["require_ssl alone: encrypted, unverified (like require)", { require_ssl: true }, { rejectUnauthorized: false }],
    ])("%s", (_case, db, expected) => {
      expect(tlsOptions(db)).toEqual(expected);
    });

    it("maps every database setting onto the pool, with the connection timeout", () => {
      const config = poolConfig({
        host: "db.example",
        port: 25060,
        username: "app",
        password: "pw",
        database_name: "newsletter",
        require_ssl: true,
        ca_cert: "PEM",
      });
      expect(config).toMatchObject({
        host: "db.example",
        port: 25060,
        user: "app",
        password: "pw",
        database: "newsletter",
        ssl: { ca: "PEM", rejectUnauthorized: true },
        connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      });
    });
  });

  describe("while Postgres is down", () => {
    let pg: TestPostgres;
    let settings: Settings;
    beforeAll(async () => {
      pg = await startPostgres();
      settings = await migratedDatabase(pg);
    });
    afterAll(async () => {
      await pg?.destroy();
    });

    it("answers 503 while Postgres is stopped, then 200 once it is back, without a restart", async () => {
      const logs = new LogCapture();
      const app = buildApp(settings, { logStream: logs });
      try {
        // A first request leaves an idle connection in the pool; stopping Postgres kills it under the pool.
        expect((await subscribe(app, "before@example.com")).statusCode).toBe(200);
        await pg.stop();

        const down = await timed(() => subscribe(app, "during@example.com"));
        expect(down.result.statusCode).toBe(503);
        expect(down.result.json()).toEqual({ error: "unavailable", message: "try again later" });
        expect(down.result.headers["retry-after"]).toBe("2");
        expect(down.ms).toBeLessThan(CONNECTION_TIMEOUT_MS + 1_000);
        expect((await app.inject({ method: "GET", url: "/health_check" })).statusCode).toBe(200);

        await pg.start();
        expect((await subscribe(app, "after@example.com")).statusCode).toBe(200);
        expect(await subscriptionRows(pg, settings.database.database_name)).toEqual([
          { email: "after@example.com", name: "test" },
          { email: "before@example.com", name: "test" },
        ]);
        const levels = logs.records().map((r) => r.level);
        expect(levels).not.toContain(50); // no error-level line: an outage is a warning, not a bug
      } finally {
        await app.close();
      }
    });

    it("answers 503 after the connection timeout, not a hang, when Postgres accepts the connection but never answers", async () => {
      // A server that accepts TCP connections and then says nothing, like a frozen or firewalled database.
      const sockets = new Set<Socket>();
      const blackHole = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
      const address = blackHole.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const app = buildApp(settingsFor(pg, "anything", { APP_DATABASE__PORT: String(port) }), { logLevel: "silent" });
      try {
        const { result, ms } = await timed(() => subscribe(app, "hang@example.com"));
        expect(result.statusCode).toBe(503);
        expect(ms).toBeGreaterThanOrEqual(CONNECTION_TIMEOUT_MS - 100);
        expect(ms).toBeLessThan(CONNECTION_TIMEOUT_MS + 1_500);
      } finally {
        await app.close();
        for (const socket of sockets) socket.destroy();
        blackHole.close();
      }
    });

    it("answers 500, not 503, when the database is up but the table is missing (a bug, not an outage)", async () => {
      await pg.createDatabase("not_migrated");
      const app = buildApp(settingsFor(pg, "not_migrated"), { logLevel: "silent" });
      try {
        const response = await subscribe(app, "bug@example.com");
        expect(response.statusCode).toBe(500);
        expect(response.json()).toEqual({ error: "internal", message: "internal error" });
      } finally {
        await app.close();
      }
    });

    it("serves a user that holds nothing but INSERT on subscriptions", async () => {
      const database = settings.database.database_name;
      const admin = await pg.client(database);
      try {
        await admin.query("CREATE ROLE writer LOGIN PASSWORD 'writer-password'");
        await admin.query(`GRANT CONNECT ON DATABASE ${database} TO writer`);
        await admin.query("GRANT INSERT ON subscriptions TO writer");
      } finally {
        await admin.end();
      }
      const writer = settingsFor(pg, database, {
        APP_DATABASE__USERNAME: "writer",
        APP_DATABASE__PASSWORD: "writer-password",
      });
      const app = buildApp(writer, { logLevel: "silent" });
      try {
        expect((await subscribe(app, "least@example.com")).statusCode).toBe(200);
        expect((await subscribe(app, "least@example.com")).statusCode).toBe(200);
      } finally {
        await app.close();
      }
      expect(await subscriptionRows(pg, database)).toContainEqual({ email: "least@example.com", name: "test" });
    });
  });

  describe("within 2 s, however Postgres fails", () => {
    // Every request that needs the database answers within about 2 s: success, or 503 with retry-after.
    const BOUND_MS = 2_000;
    let pg: TestPostgres;
    let settings: Settings;
    let database: string;
    beforeAll(async () => {
      pg = await startPostgres();
      settings = await migratedDatabase(pg);
      database = settings.database.database_name;
    });
    afterAll(async () => {
      await pg?.destroy();
    });
    const emails = async () => (await subscriptionRows(pg, database)).map((r) => r.email);

    /** Runs `work` while another session holds `lock` on subscriptions; the lock is released before it returns. */
    async function whileLocked<T>(lock: string, work: () => Promise<T>): Promise<T> {
      const locker = await pg.client(database);
      try {
        await locker.query(`BEGIN; LOCK TABLE subscriptions IN ${lock} MODE`);
        return await work();
      } finally {
        await locker.query("COMMIT");
        await locker.end();
      }
    }

    it("answers 503 within 2 s when the INSERT waits on a lock, and never stores it once the lock is gone", async () => {
      const app = buildApp(settings, { logLevel: "silent" });
      try {
        expect((await subscribe(app, "warm@example.com")).statusCode).toBe(200);
        const { result, ms } = await whileLocked("ACCESS EXCLUSIVE", async () => {
          return timed(() => subscribe(app, "locked@example.com"));
        });
        expect(result.statusCode).toBe(503);
        expect(result.headers["retry-after"]).toBe("2");
        expect(ms).toBeLessThan(BOUND_MS);
        // Give a statement still queued behind the lock every chance to run now that it is released.
        await new Promise((r) => setTimeout(r, 1_000));
        expect(await emails()).not.toContain("locked@example.com");
        expect((await subscribe(app, "after-lock@example.com")).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    });

    it("answers every one of 30 concurrent requests within 2 s while a lock is held, more than the pool holds", async () => {
      const app = buildApp(settings, { logLevel: "silent" });
      try {
        const answers = await whileLocked("ACCESS EXCLUSIVE", () =>
          Promise.all(Array.from({ length: 30 }, (_, i) => timed(() => subscribe(app, `crowd${i}@example.com`)))),
        );
        expect(answers.map((a) => a.result.statusCode)).toEqual(answers.map(() => 503));
        expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(BOUND_MS);
        await new Promise((r) => setTimeout(r, 1_000));
        expect((await emails()).filter((e) => e.startsWith("crowd"))).toEqual([]);
      } finally {
        await app.close();
      }
    });

    it("answers 503 within 2 s when the statement itself is slow, and Postgres cancels it (nothing stored)", async () => {
      const admin = await pg.client(database);
      await admin.query(`
        CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
        CREATE TRIGGER slow_insert BEFORE INSERT ON subscriptions FOR EACH ROW EXECUTE FUNCTION slow_insert();
      `);
      const app = buildApp(settings, { logLevel: "silent" });
      try {
        const { result, ms } = await timed(() => subscribe(app, "slow@example.com"));
        expect(result.statusCode).toBe(503);
        expect(ms).toBeLessThan(BOUND_MS);
        // Past the moment the trigger would have finished, had Postgres not cancelled the statement.
        await new Promise((r) => setTimeout(r, 3_500));
        expect(await emails()).not.toContain("slow@example.com");
      } finally {
        await app.close();
        await admin.query("DROP TRIGGER slow_insert ON subscriptions; DROP FUNCTION slow_insert()");
        await admin.end();
      }
    });

    it("answers 503 within 2 s when a warm pool's connections stall (a partition), then recovers", async () => {
      const proxy = await startTcpProxy(pg);
      const app = buildApp(settingsFor(pg, database, { APP_DATABASE__PORT: String(proxy.port) }), {
        logLevel: "silent",
      });
      try {
        // Warm: several connections open and idle in the pool.
        const warm = await Promise.all(Array.from({ length: 5 }, (_, i) => subscribe(app, `warm${i}@example.com`)));
        expect(warm.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);

        proxy.stall();
        const stalled = await Promise.all(
          Array.from({ length: 12 }, (_, i) => timed(() => subscribe(app, `partition${i}@example.com`))),
        );
        expect(stalled.map((a) => a.result.statusCode)).toEqual(stalled.map(() => 503));
        expect(Math.max(...stalled.map((a) => a.ms))).toBeLessThan(BOUND_MS);
        expect(stalled[0]?.result.headers["retry-after"]).toBe("2");

        proxy.resume();
        expect((await subscribe(app, "healed@example.com")).statusCode).toBe(200);
        expect(await emails()).toContain("healed@example.com");
      } finally {
        await app.close();
        await proxy.close();
      }
    });

    it("answers 503 within 2 s when new connections to Postgres stall before it says anything", async () => {
      const proxy = await startTcpProxy(pg);
      proxy.stall();
      const app = buildApp(settingsFor(pg, database, { APP_DATABASE__PORT: String(proxy.port) }), {
        logLevel: "silent",
      });
      try {
        const { result, ms } = await timed(() => subscribe(app, "cold@example.com"));
        expect(result.statusCode).toBe(503);
        expect(ms).toBeLessThan(BOUND_MS);
      } finally {
        await app.close();
        await proxy.close();
      }
    });
  });

  describe("over TLS", () => {
    let pg: TestPostgres;
    let settings: Settings;
    beforeAll(async () => {
      pg = await startPostgres({ tls: true });
      settings = await migratedDatabase(pg);
    });
    afterAll(async () => {
      await pg?.destroy();
    });

    const withTls = (env: Record<string, string>) =>
      settingsFor(pg, settings.database.database_name, { APP_DATABASE__REQUIRE_SSL: "true", ...env });

    /** Whether the app's connections (application_name "newsletter") are encrypted, as Postgres sees them. */
    async function appConnectionsEncrypted(): Promise<boolean[]> {
      const client = await pg.client("postgres");
      try {
        const { rows } = await client.query<{ ssl: boolean }>(
          "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'newsletter'",
        );
        return rows.map((r) => r.ssl);
      } finally {
        await client.end();
      }
    }

    it("verifies the server against ca_cert and connects encrypted", async () => {
      const app = buildApp(withTls({ APP_DATABASE__CA_CERT: pg.caCert ?? "" }), { logLevel: "silent" });
      try {
        expect((await subscribe(app, "verified@example.com")).statusCode).toBe(200);
        expect(await appConnectionsEncrypted()).toEqual([true]);
      } finally {
        await app.close();
      }
    });

    it("refuses a server whose certificate another CA signed (503, nothing stored)", async () => {
      const otherCa = execFileSync(
        "openssl",
        "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=someone-else -keyout /dev/null".split(" "),
        { stdio: ["ignore", "pipe", "ignore"] },
      ).toString();
      const app = buildApp(withTls({ APP_DATABASE__CA_CERT: otherCa }), { logLevel: "silent" });
      try {
        expect((await subscribe(app, "mitm@example.com")).statusCode).toBe(503);
      } finally {
        await app.close();
      }
      const emails = (await subscriptionRows(pg, settings.database.database_name)).map((r) => r.email);
      expect(emails).not.toContain("mitm@example.com");
    });

    it("encrypts without verifying when require_ssl has no CA (libpq's require)", async () => {
      const app = buildApp(withTls({}), { logLevel: "silent" });
      try {
        expect((await subscribe(app, "unverified@example.com")).statusCode).toBe(200);
        expect(await appConnectionsEncrypted()).toEqual([true]);
      } finally {
        await app.close();
      }
    });
  });
});
