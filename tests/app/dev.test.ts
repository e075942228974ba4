// `npm run dev` (tsx app/src/dev.ts): with no APP_DATABASE__* variable, it brings its own Postgres.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/postgres";
import { FORM, REPO } from "./helpers";

describe("npm run dev", () => {
  it("starts an embedded Postgres, migrates, serves on 127.0.0.1, and stops it all on Ctrl-C", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "newsletter-dev-"));
    const [appPort, postgresPort] = [await freePort(), await freePort()];
    const child = spawn(
      join(REPO, "node_modules/.bin/tsx"),
      ["app/src/dev.ts", "--data-dir", dataDir, "--postgres-port", String(postgresPort)],
      // Only the port is overridden: no APP_DATABASE__* variable, so dev.ts brings its own database.
      { cwd: REPO, env: { PATH: process.env.PATH, HOME: process.env.HOME, APP_APPLICATION__PORT: String(appPort) } },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes("Server listening")) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`dev did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(output).toContain(`"msg":"Server listening at http://127.0.0.1:${appPort}"`);
      const response = await fetch(`http://127.0.0.1:${appPort}/subscriptions`, {
        method: "POST",
        headers: FORM,
        body: "name=dev&email=dev%40example.com",
      });
      expect(response.status).toBe(200);

      // The row is in the embedded Postgres, with the credentials and database name of base.yaml.
      const client = new pg.Client({
        host: "127.0.0.1",
        port: postgresPort,
        user: "postgres",
        password: "password",
        database: "newsletter",
      });
      await client.connect();
      const { rows } = await client.query("SELECT email FROM subscriptions");
      await client.end();
      expect(rows).toEqual([{ email: "dev@example.com" }]);
      child.kill("SIGINT");
      await exited;
      // Its Postgres went with it.
      const after = new pg.Client({ host: "127.0.0.1", port: postgresPort, user: "postgres", password: "password" });
      await expect(after.connect()).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGINT");
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
