// `npm run dev` (tsx app/src/dev.ts): with no APP_DATABASE__* variable, it brings its own Postgres.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { databaseEnv } from "../support/app-process";
import { freePort, startPostgres } from "../support/postgres";
import { FORM, REPO } from "./helpers";

/** `npm run dev` with these arguments, and no APP_DATABASE__* variable: dev.ts brings its own database. */
function dev(args: string[], env: Record<string, string> = {}) {
  const child = spawn(join(REPO, "node_modules/.bin/tsx"), ["app/src/dev.ts", ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** The embedded Postgres of base.yaml's credentials on `port`, as a client: connects only while it runs. */
const postgresClient = (port: number, database?: string) =>
  new pg.Client({ host: "127.0.0.1", port, user: "postgres", password: "password", database });

describe("npm run dev", () => {
  it("starts an embedded Postgres, migrates, serves on 127.0.0.1, and stops it all on Ctrl-C", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "newsletter-dev-"));
    const [appPort, postgresPort] = [await freePort(), await freePort()];
    const run = dev(["--data-dir", dataDir, "--postgres-port", String(postgresPort)], {
      APP_APPLICATION__PORT: String(appPort),
    });
    try {
      const deadline = Date.now() + 60_000;
      while (!run.output().includes("Server listening")) {
        if (Date.now() > deadline || run.child.exitCode !== null)
          throw new Error(`dev did not start:\n${run.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(run.output()).toContain(`"msg":"Server listening at http://127.0.0.1:${appPort}"`);
      const response = await fetch(`http://127.0.0.1:${appPort}/subscriptions`, {
        method: "POST",
        headers: FORM,
        body: "name=dev&email=dev%40example.com",
      });
      expect(response.status).toBe(200);

      // The row is in the embedded Postgres, with the credentials and database name of base.yaml.
      const client = postgresClient(postgresPort, "newsletter");
      await client.connect();
      const { rows } = await client.query("SELECT email FROM subscriptions");
      await client.end();
      expect(rows).toEqual([{ email: "dev@example.com" }]);
      run.child.kill("SIGINT");
      await run.exited;
      // Its Postgres went with it.
      await expect(postgresClient(postgresPort).connect()).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      if (run.child.exitCode === null) {
        run.child.kill("SIGINT");
        await run.exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("stops its Postgres before exiting 1 when the server cannot listen", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "newsletter-dev-"));
    const postgresPort = await freePort();
    // Something else already holds the app's port, so listening fails after Postgres started and migrations ran.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const address = squatter.address();
    const appPort = typeof address === "object" && address ? address.port : 0;
    const run = dev(["--data-dir", dataDir, "--postgres-port", String(postgresPort)], {
      APP_APPLICATION__PORT: String(appPort),
    });
    try {
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain("EADDRINUSE");
      await expect(postgresClient(postgresPort).connect()).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGINT");
      squatter.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("never prints the database password when it fails, even inside a library's message", async () => {
    const pg = await startPostgres();
    try {
      await pg.createDatabase("dev_leak");
      // Migrations pass on the test server; then the host, named after the password, makes `listen` fail on DNS.
      const run = dev([], { ...databaseEnv(pg, "dev_leak"), APP_APPLICATION__HOST: `${pg.password}.invalid` });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain("ENOTFOUND");
      expect(run.output()).not.toContain(pg.password);
    } finally {
      await pg.destroy();
    }
  });

  it.each(["70000", "0", "0x10", "abc"])(
    "refuses --postgres-port %s before starting anything, naming the option and the range",
    async (port) => {
      const run = dev(["--data-dir", "/nonexistent/never-created", "--postgres-port", port]);
      expect(await run.exited).toBe(1);
      const message = `--postgres-port must be an integer from 1 to 65535, not "${port}"`;
      expect(run.output()).toContain(JSON.stringify(message).slice(1, -1)); // as it stands in a JSON log line
    },
  );
});
