// Shared by the app tests: settings that point at a database on the test server (through the same APP_DATABASE__*
// variables a deployment sets), a migrated database, captured log lines, and the bundled app laid out like the image.
import { execFileSync } from "node:child_process";
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runMigrations } from "../../app/src/migrations";
import { loadSettings, type Settings } from "../../app/src/settings";
import { databaseEnv } from "../support/app-process";
import type { TestPostgres } from "../support/postgres";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CONFIGURATION_DIR = join(REPO, "configuration");
export const FORM = { "content-type": "application/x-www-form-urlencoded" } as const;

/** `local` settings (loopback, no TLS) for `database` on the test server, plus any other overrides. */
export function settingsFor(pg: TestPostgres, database: string, env: Record<string, string> = {}): Settings {
  return loadSettings({
    dir: CONFIGURATION_DIR,
    env: { APP_ENVIRONMENT: "local", ...databaseEnv(pg, database), ...env },
  });
}

export const silentMigrationLog = { info: () => {}, warn: () => {}, error: () => {} };

let databases = 0;
/** A new database on the test server with every migration applied; its settings. */
export async function migratedDatabase(pg: TestPostgres, env: Record<string, string> = {}): Promise<Settings> {
  const name = `app_test_${process.pid}_${++databases}`;
  await pg.createDatabase(name);
  const settings = settingsFor(pg, name, env);
  await runMigrations(settings, silentMigrationLog);
  return settings;
}

/** A log destination that keeps every line, for assertions on what the app logs. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(
      ...chunk
        .toString()
        .split("\n")
        .filter((line) => line !== ""),
    );
    done();
  }
  records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/**
 * The bundles built by app/build.mjs, laid out as in the image: <root>/dist/{server,migrate}.js,
 * <root>/migrations/*.sql, <root>/configuration/*.yaml. Run them with `cwd: root`, like WORKDIR /app.
 */
export async function bundledAppLayout(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "newsletter-app-"));
  execFileSync(process.execPath, [join(REPO, "app/build.mjs"), join(root, "dist")], { stdio: "pipe" });
  await cp(join(REPO, "app/migrations"), join(root, "migrations"), { recursive: true });
  await cp(CONFIGURATION_DIR, join(root, "configuration"), { recursive: true });
  return root;
}

/** Rows of `subscriptions` in a database, ordered by email. */
export async function subscriptionRows(pg: TestPostgres, database: string) {
  const client = await pg.client(database);
  try {
    const { rows } = await client.query<{ email: string; name: string }>(
      "SELECT email, name FROM subscriptions ORDER BY email",
    );
    return rows;
  } finally {
    await client.end();
  }
}
