import { createHash } from "node:crypto";
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

  it("are JSON lines: one per request that does something, with its id, method, URL, status and duration", async () => {
    const logs = new LogCapture();
    const app = buildApp(settings, { logStream: logs });
    try {
      const responses = [
        await app.inject({
          method: "POST",
          url: "/subscriptions",
          headers: FORM,
          payload: "name=ursula&email=ursula%40example.com",
        }),
        await app.inject({ method: "POST", url: "/subscriptions", headers: FORM, payload: "name=ursula" }),
        await app.inject({ method: "GET", url: "/no-such-page" }),
      ];
      const ids = responses.map((r) => r.headers["x-request-id"]);
      expect(new Set(ids).size).toBe(3);
      const records = logs.records();
      expect(
        ids.map((id) =>
          records.filter((r) => r.reqId === id).map((r) => [r.msg, (r.res as { statusCode: number }).statusCode]),
        ),
      ).toEqual([[["request completed", 200]], [["request completed", 400]], [["request completed", 404]]]);
      const [line] = records.filter((r) => r.reqId === ids[0]);
      expect(line).toMatchObject({
        level: 30,
        req: { method: "POST", url: "/subscriptions" },
        res: { statusCode: 200 },
      });
      expect(typeof line?.responseTime).toBe("number");
      // Nothing about a request is logged without its id.
      expect(
        records.filter((r) => r.req !== undefined || r.res !== undefined).every((r) => typeof r.reqId === "string"),
      ).toBe(true);
    } finally {
      await app.close();
    }
  });

  it("leave a health check that succeeds out at level info, and log it at debug (application.log_level)", async () => {
    for (const [level, expected] of [
      ["info", []],
      ["debug", ["request completed"]],
    ] as const) {
      const logs = new LogCapture();
      const atLevel = { ...settings, application: { ...settings.application, log_level: level } };
      const app = buildApp(atLevel, { logStream: logs });
      try {
        const response = await app.inject({ method: "GET", url: "/health_check" });
        expect(response.statusCode).toBe(200);
        const id = response.headers["x-request-id"];
        expect(typeof id).toBe("string");
        expect(
          logs
            .records()
            .filter((r) => r.reqId === id)
            .map((r) => r.msg),
        ).toEqual(expected);
      } finally {
        await app.close();
      }
    }
  });

  it("write no line for a request that succeeded at log_level warn", async () => {
    const logs = new LogCapture();
    const atWarn = { ...settings, application: { ...settings.application, log_level: "warn" as const } };
    const app = buildApp(atWarn, { logStream: logs });
    try {
      const ok = await app.inject({
        method: "POST",
        url: "/subscriptions",
        headers: FORM,
        payload: "name=quiet&email=quiet%40example.com",
      });
      expect(ok.statusCode).toBe(200);
      expect(logs.records().filter((r) => r.reqId === ok.headers["x-request-id"])).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it("use the caller's x-request-id when it is a plain token, and echo it back", async () => {
    const logs = new LogCapture();
    const app = buildApp(settings, { logStream: logs });
    try {
      const response = await app.inject({
        method: "POST",
        url: "/subscriptions",
        headers: { ...FORM, "x-request-id": "edge-1234" },
        payload: "name=edge&email=edge%40example.com",
      });
      expect(response.headers["x-request-id"]).toBe("edge-1234");
      expect(logs.records().filter((r) => r.reqId === "edge-1234")).toHaveLength(1);

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
    expect(logs.lines.length).toBeGreaterThan(5);
    expect(text).toContain("password authentication failed"); // the failure itself is logged...
    expect(text).toContain("[redacted]");
    expect(text).not.toContain(PASSWORD); // ...but never the password, raw
    expect(text).not.toContain(JSON.stringify(PASSWORD).slice(1, -1)); // or JSON-escaped
  });
});

// Passwords that also occur in the JSON around the values (a level, a key, a literal, a quote, a brace) or that change
// when they are escaped or encoded. Redaction must keep every line JSON and still let none of them through.
const HOSTILE_PASSWORDS = [
  "30",
  "level",
  "msg",
  "info",
  "true",
  "null",
  '"',
  "\\",
  "{",
  "}",
  ":",
  ",",
  "a b&c=d/e?f%g",
  'Pw-"leak\\check"-7f3a',
  "pässwörd€",
  "[redacted]",
];

/** Every spelling of `secret` a log reader could decode: raw, JSON-escaped, percent-encoded (either case), as a form. */
function spellings(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    new URLSearchParams({ x: secret }).toString().slice(2),
  ];
}

/** Every string in a parsed line, at any depth (keys aside: they are names written in code). */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

describe("logs under a hostile database password", () => {
  let pg: TestPostgres;
  let database: string;
  beforeAll(async () => {
    pg = await startPostgres();
    database = (await migratedDatabase(pg)).database.database_name;
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it.each(HOSTILE_PASSWORDS)(
    "keep every line JSON and let no spelling of the password %j through",
    async (password) => {
      // A role that logs in with this password and may insert, so the requests below really use it.
      const role = `hostile_${createHash("sha1").update(password).digest("hex").slice(0, 12)}`;
      const admin = await pg.client(database);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD ${admin.escapeLiteral(password)}`);
      await admin.query(`GRANT INSERT ON subscriptions TO ${role}`);

      const logs = new LogCapture();
      const app = buildApp(
        settingsFor(pg, database, { APP_DATABASE__USERNAME: role, APP_DATABASE__PASSWORD: password }),
        { logStream: logs },
      );
      try {
        const encoded = encodeURIComponent(password);
        const stored = await app.inject({
          method: "POST",
          url: `/subscriptions?token=${encoded}`,
          headers: FORM,
          payload: `name=hostile&email=${role}%40example.com`,
        });
        expect(stored.statusCode).toBe(200);
        // The password in a URL, percent-encoded in either case, and as a caller's request id where it is a token.
        await app.inject({ method: "GET", url: `/${encoded}/${encoded.toLowerCase()}?q=${encoded}` });
        await app.inject({ method: "GET", url: "/nothing", headers: { "x-request-id": password } });
        // A driver error that quotes the password: Postgres names the value it could not read as a uuid.
        const driverError = await admin.query("SELECT $1::uuid", [password]).then(
          () => new Error("expected Postgres to refuse the value"),
          (error: Error) => error,
        );
        expect(driverError.message).toContain(password);
        app.log.error({ err: driverError }, "query failed");
        app.log.warn({ detail: { nested: [`in an array: ${password}`] } }, `in a message: ${password}`);
        app.log.info(`JSON-escaped in a message: ${JSON.stringify({ password })}`);
        // The same password, wrong for another role: pg's own error for the connection, logged with the 503.
        const wrong = buildApp(
          settingsFor(pg, database, { APP_DATABASE__USERNAME: "postgres", APP_DATABASE__PASSWORD: password }),
          { logStream: logs },
        );
        const refused = await wrong.inject({
          method: "POST",
          url: "/subscriptions",
          headers: FORM,
          payload: "name=a&email=a%40example.com",
        });
        expect(refused.statusCode).toBe(503);
        await wrong.close();
      } finally {
        await app.close();
        await admin.end();
      }

      expect(logs.lines.length).toBeGreaterThanOrEqual(8);
      for (const line of logs.lines) {
        const record = JSON.parse(line) as Record<string, unknown>; // throws on a line that is not JSON
        expect(typeof record.level).toBe("number");
        expect(typeof record.time).toBe("number");
        const leaked = strings(record).filter((text) =>
          spellings(password).some((spelling) => text.includes(spelling)),
        );
        expect(leaked).toEqual([]);
      }
      // The driver's error is still logged, with the password censored.
      expect(logs.records().some((r) => r.msg === "query failed" && JSON.stringify(r.err).includes("uuid"))).toBe(true);
    },
  );
});
