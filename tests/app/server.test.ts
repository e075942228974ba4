// The real entry point, bundled as in the image (`node dist/server.js` from the app's folder), in its own process.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appProcessEnv, untilListening as untilHealthy } from "../support/app-process";
import { freePort, startPostgres, type TestPostgres } from "../support/postgres";
import { bundledAppLayout, FORM, migratedDatabase, subscriptionRows } from "./helpers";

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

describe("the server process (dist/server.js)", () => {
  let pg: TestPostgres;
  let root: string;
  let database: string;
  beforeAll(async () => {
    [pg, root] = await Promise.all([startPostgres(), bundledAppLayout()]);
    database = (await migratedDatabase(pg)).database.database_name;
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  async function start(env: Record<string, string> = {}): Promise<Running> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(root, "dist/server.js")], {
      cwd: root,
      env: appProcessEnv(pg, database, { APP_APPLICATION__PORT: String(port), ...env }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split("\n");
      buffered = complete.pop() ?? "";
      lines.push(...complete);
    });
    child.stderr?.on("data", (chunk: Buffer) => lines.push(`stderr: ${chunk}`));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    return { child, url, lines, exited };
  }

  /** Once it answers its health check; if it never does, the error shows what it printed. */
  async function untilListening(server: Running): Promise<void> {
    await untilHealthy(server.child, server.url).catch((error: Error) => {
      throw new Error(`${error.message}:\n${server.lines.join("\n")}`);
    });
  }

  /** Resolves once Postgres shows an INSERT waiting on a lock: the request is in flight, inside the app. */
  async function untilInsertWaits(): Promise<void> {
    const client = await pg.client("postgres");
    try {
      for (let i = 0; i < 200; i++) {
        const { rowCount } = await client.query(
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'newsletter' AND wait_event_type = 'Lock'",
        );
        if (rowCount) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error("the INSERT never reached Postgres");
    } finally {
      await client.end();
    }
  }

  /**
   * A POST /subscriptions that is in flight inside the app: its INSERT waits on a lock this test holds on the table.
   * `release` lets it through; `outcome` is the HTTP status, or "connection closed".
   */
  async function stuckSubscription(server: Running, email: string) {
    const locker = await pg.client(database);
    await locker.query("BEGIN; LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE");
    const outcome = fetch(`${server.url}/subscriptions`, {
      method: "POST",
      headers: FORM,
      body: `name=in%20flight&email=${encodeURIComponent(email)}`,
    }).then(
      (r) => r.status,
      () => "connection closed",
    );
    await untilInsertWaits();
    const release = async () => {
      await locker.query("COMMIT");
      await locker.end();
    };
    return { outcome, release };
  }

  it("logs its version in its first line, as JSON", async () => {
    const server = await start({ APP_APPLICATION__VERSION: "3f2c1ab" });
    await untilListening(server);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    const first = JSON.parse(server.lines[0] ?? "{}");
    expect(first).toMatchObject({ level: 30, version: "3f2c1ab", msg: "newsletter 3f2c1ab starting" });
  });

  it("on SIGTERM stops accepting connections, finishes the request in flight, and exits 0", async () => {
    const server = await start();
    await untilListening(server);
    const request = await stuckSubscription(server, "inflight@example.com");
    server.child.kill("SIGTERM");
    // The listener closes: a new connection is refused while the old request is still running.
    await new Promise((r) => setTimeout(r, 300));
    await expect(fetch(`${server.url}/health_check`)).rejects.toThrow();
    expect(server.child.exitCode).toBeNull();

    await request.release();
    expect(await request.outcome).toBe(200);
    expect(await server.exited).toBe(0);
    expect(await subscriptionRows(pg, database)).toContainEqual({ email: "inflight@example.com", name: "in flight" });
    expect(server.lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
  });

  it("cuts off a request still running when the grace period is over, and exits 1", async () => {
    const server = await start({ APP_APPLICATION__SHUTDOWN_GRACE_SECONDS: "1" });
    await untilListening(server);
    const request = await stuckSubscription(server, "slow@example.com");
    const signalled = Date.now();
    server.child.kill("SIGTERM");
    try {
      expect(await server.exited).toBe(1);
      expect(Date.now() - signalled).toBeLessThan(5_000);
      expect(await request.outcome).toBe("connection closed");
    } finally {
      await request.release();
    }
  });

  it("never prints the database password when it cannot start, even inside a library's message", async () => {
    // The host is named after the password, so the DNS error that stops `listen` quotes it.
    const password = "leak-check-7f3a";
    const server = await start({ APP_DATABASE__PASSWORD: password, APP_APPLICATION__HOST: `${password}.invalid` });
    expect(await server.exited).toBe(1);
    const output = server.lines.join("\n");
    expect(output).toContain("could not start");
    expect(output).toContain("ENOTFOUND");
    expect(output).not.toContain(password);
  });

  it("fails at start, naming the variable, the key and the type, when a setting is bad", async () => {
    const server = await start({ APP_APPLICATION__PORT: "abc" });
    expect(await server.exited).toBe(1);
    expect(JSON.parse(server.lines[0] ?? "{}").msg).toBe(
      "Invalid settings:\n  - application.port (from APP_APPLICATION__PORT): expected a port number (an integer from 1 to 65535)",
    );
  });
});
