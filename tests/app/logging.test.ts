import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../app/src/app";
import type { Settings } from "../../app/src/settings";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { FORM, LogCapture, migratedDatabase, settingsFor } from "./helpers";

// Distinctive, with characters JSON escapes, so a leak shows up in either form.
const PASSWORD = 'Pw-"leak\\check"-7f3a';

describe("logs", () => {
  let pg: TestPostgres;
  let settings: Settings;
  beforeAll(async () => {
    pg = await startPostgres();
    settings = await migratedDatabase(pg);
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it("are JSON lines, and every line of a request carries that request's id", async () => {
    const logs = new LogCapture();
    const app = buildApp(settings, { logStream: logs });
    try {
      const first = await app.inject({ method: "GET", url: "/health_check" });
      const second = await app.inject({
        method: "POST",
        url: "/subscriptions",
        headers: FORM,
        payload: "name=ursula&email=ursula%40example.com",
      });
      const ids = [first.headers["x-request-id"], second.headers["x-request-id"]];
      expect(ids[0]).not.toBe(ids[1]);
      const records = logs.records();
      for (const id of ids) {
        const lines = records.filter((r) => r.reqId === id);
        expect(lines.map((r) => r.msg)).toEqual(["incoming request", "request completed"]);
      }
      // Nothing about a request is logged without its id.
      expect(
        records.filter((r) => r.req !== undefined || r.res !== undefined).every((r) => typeof r.reqId === "string"),
      ).toBe(true);
    } finally {
      await app.close();
    }
  });

  it("use the caller's x-request-id when it is a plain token, and echo it back", async () => {
    const logs = new LogCapture();
    const app = buildApp(settings, { logStream: logs });
    try {
      const response = await app.inject({
        method: "GET",
        url: "/health_check",
        headers: { "x-request-id": "edge-1234" },
      });
      expect(response.headers["x-request-id"]).toBe("edge-1234");
      expect(logs.records().filter((r) => r.reqId === "edge-1234")).toHaveLength(2);

      const forged = await app.inject({
        method: "GET",
        url: "/health_check",
        headers: { "x-request-id": 'x"}\n{"level":60' },
      });
      expect(forged.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await app.close();
    }
  });

  it("never contain the database password: not when authentication fails, not when Postgres is down", async () => {
    const database = settings.database.database_name;
    const admin = await pg.client(database);
    await admin.query(`CREATE ROLE leaky LOGIN PASSWORD ${admin.escapeLiteral(PASSWORD)}`);
    await admin.end();

    const logs = new LogCapture();
    const subscribe = (app: ReturnType<typeof buildApp>) =>
      app.inject({ method: "POST", url: "/subscriptions", headers: FORM, payload: "name=a&email=a%40example.com" });

    // The password is right but the user may not insert: a 500, logged with the error.
    const right = buildApp(
      settingsFor(pg, database, { APP_DATABASE__USERNAME: "leaky", APP_DATABASE__PASSWORD: PASSWORD }),
      { logStream: logs },
    );
    expect((await subscribe(right)).statusCode).toBe(500);
    // Whatever someone logs by mistake: the settings object, or the password inside a message.
    const leakySettings = settingsFor(pg, database, { APP_DATABASE__PASSWORD: PASSWORD });
    right.log.info({ settings: leakySettings, database: leakySettings.database }, `connecting with ${PASSWORD}`);
    right.log.error({ err: new Error(`auth failed for ${PASSWORD}`) }, "oops");
    await right.close();

    // A wrong password (the real one is logged nowhere either): 503.
    const wrong = buildApp(
      settingsFor(pg, database, { APP_DATABASE__USERNAME: "postgres", APP_DATABASE__PASSWORD: PASSWORD }),
      { logStream: logs },
    );
    expect((await subscribe(wrong)).statusCode).toBe(503);
    await wrong.close();

    // Postgres down: the connection error is logged.
    await pg.stop();
    try {
      const down = buildApp(settingsFor(pg, database, { APP_DATABASE__PASSWORD: PASSWORD }), { logStream: logs });
      expect((await subscribe(down)).statusCode).toBe(503);
      await down.close();
    } finally {
      await pg.start();
    }

    const text = logs.lines.join("\n");
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(text).toContain("password authentication failed"); // the failure itself is logged...
    expect(text).toContain("[redacted]");
    expect(text).not.toContain(PASSWORD); // ...but never the password, raw
    expect(text).not.toContain(JSON.stringify(PASSWORD).slice(1, -1)); // or JSON-escaped
  });
});
