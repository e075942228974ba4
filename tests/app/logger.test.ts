import { describe, expect, it } from "vitest";
import { buildApp } from "../../app/src/app";
import { secretMatcher } from "../../app/src/logger";
import { loadSettings } from "../../app/src/settings";
import { CONFIGURATION_DIR, LogCapture } from "./helpers";

describe("secretMatcher", () => {
  it.each([
    ["raw", 'p"w', 'p"w'],
    ["JSON-escaped", 'p"w', 'p\\"w'],
    ["JSON unicode escape, either case of hex", "p\\w", "p\\u005cw"],
    ["percent-encoded", "a/b c", "a%2Fb%20c"],
    ["percent-encoded, lower-case hex", "a/b c", "a%2fb%20c"],
    ["form-encoded", "a/b c", "a%2Fb+c"],
    ["encoded character by character, mixed", "a/b c", "a%2fb c"],
    ["UTF-8, percent-encoded", "pä€", "p%C3%A4%E2%82%AC"],
  ])("finds the secret %s inside a value", (_form, secret, spelled) => {
    const matcher = secretMatcher(secret);
    expect(matcher.redactText(`before ${spelled} after`)).toBe(`before ${matcher.censor} after`);
  });

  it("redacts string values of a line, keeps the JSON around them and the numbers and keys", () => {
    const matcher = secretMatcher("30");
    const line = `${JSON.stringify({ level: 30, time: 1730000000000, msg: "port 5430", err: { message: ["a 30"] } })}\n`;
    expect(matcher.redactLine(line)).toBe(
      `${JSON.stringify({ level: 30, time: 1730000000000, msg: "port 54[redacted]", err: { message: ["a [redacted]"] } })}\n`,
    );
  });

  it("leaves a line in which the secret can't be as pino wrote it, byte for byte", () => {
    const matcher = secretMatcher("s3cret!");
    const line = '{"level":30,"msg":"a \\u00e9 \\"quoted\\""}\n';
    expect(matcher.redactLine(line)).toBe(line);
  });

  it("picks a censor that does not spell the secret", () => {
    expect(secretMatcher("redacted").censor).not.toContain("redacted");
    expect(secretMatcher("x").censor).not.toContain("x");
  });
});

describe("the app's logger", () => {
  it("censors the email API's token as it censors the password, in values only", async () => {
    const logs = new LogCapture();
    const token = 'tok-"30"';
    const settings = loadSettings({
      dir: CONFIGURATION_DIR,
      env: { APP_ENVIRONMENT: "local", APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN: token },
    });
    const app = buildApp(settings, { logStream: logs });
    app.log.info({ url: `https://mail.example/?token=${encodeURIComponent(token)}` }, `sending with ${token}`);
    await app.close();
    expect(logs.records()).toEqual([
      expect.objectContaining({
        level: 30,
        url: "https://mail.example/?token=[redacted]",
        msg: "sending with [redacted]",
      }),
    ]);
  });

  it("censors the keys that hold a password whatever their value, and the password wherever it is", async () => {
    const logs = new LogCapture();
    // No request reaches the database here: the pool connects on the first query.
    const settings = loadSettings({
      dir: CONFIGURATION_DIR,
      env: { APP_ENVIRONMENT: "local", APP_DATABASE__PASSWORD: "{" },
    });
    const app = buildApp(settings, { logStream: logs });
    app.log.info({ password: "other", database: { password: "another" } }, "a { b");
    await app.close();
    expect(logs.records()).toEqual([
      expect.objectContaining({ password: "[redacted]", database: { password: "[redacted]" }, msg: "a [redacted] b" }),
    ]);
  });
});
