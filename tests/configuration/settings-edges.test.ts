// The settings loader (app/src/settings.ts) at its edges: the limits of each number, how values from files and
// variables are read, and the whole text of each refusal. Only files in temporary folders; no database.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { listEnvironments, loadSettings, SettingsError } from "../../app/src/settings";

const dir = fileURLToPath(new URL("../../configuration", import.meta.url));

const folders: string[] = [];
afterAll(() => Promise.all(folders.map((path) => rm(path, { recursive: true, force: true }))));

/** A configuration folder with these files, removed after this file's tests. */
async function folder(files: Record<string, string>): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "newsletter-settings-"));
  folders.push(path);
  for (const [name, text] of Object.entries(files)) await writeFile(join(path, name), text);
  return path;
}

/** A base.yaml that sets every key, for folders that change one thing. */
const BASE = [
  "application:",
  "  port: 8000",
  "  host: 127.0.0.1",
  "  version: dev",
  "  shutdown_grace_seconds: 8",
  "database:",
  "  host: 127.0.0.1",
  "  port: 5432",
  "  username: postgres",
  "  password: password",
  "  database_name: newsletter",
  "  require_ssl: false",
  "email_client:",
  "  base_url: http://localhost",
  "  sender_email: test@example.com",
  "  authorization_token: my-secret-token",
  "  timeout_milliseconds: 10000",
  "",
].join("\n");

function errorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).name).toBe("SettingsError");
    return (error as Error).message;
  }
  throw new Error("expected loadSettings to throw");
}

const load = (env: Record<string, string | undefined>) => loadSettings({ dir, env });
const invalid = (...problems: string[]) => `Invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`;

describe("numbers at their limits", () => {
  it.each([
    ["APP_APPLICATION__PORT", "1", ["application", "port"], 1],
    ["APP_APPLICATION__PORT", "65535", ["application", "port"], 65_535],
    ["APP_DATABASE__PORT", "65535", ["database", "port"], 65_535],
    ["APP_APPLICATION__SHUTDOWN_GRACE_SECONDS", "0", ["application", "shutdown_grace_seconds"], 0],
    ["APP_APPLICATION__SHUTDOWN_GRACE_SECONDS", "3600", ["application", "shutdown_grace_seconds"], 3_600],
    ["APP_APPLICATION__SHUTDOWN_GRACE_SECONDS", "+0", ["application", "shutdown_grace_seconds"], 0],
  ])("accepts %s=%s", (variable, value, [section, key], expected) => {
    const settings = load({ [variable]: value }) as unknown as Record<string, Record<string, unknown>>;
    expect(settings[section as string]?.[key as string]).toBe(expected);
  });

  it.each([
    ["APP_APPLICATION__PORT", "0", "application.port", "a port number (an integer from 1 to 65535)"],
    ["APP_APPLICATION__PORT", "65536", "application.port", "a port number (an integer from 1 to 65535)"],
    ["APP_APPLICATION__PORT", "-80", "application.port", "a port number (an integer from 1 to 65535)"],
    ["APP_APPLICATION__PORT", "80a", "application.port", "a port number (an integer from 1 to 65535)"],
    ["APP_APPLICATION__PORT", "a80", "application.port", "a port number (an integer from 1 to 65535)"],
    ["APP_APPLICATION__PORT", "", "application.port", "a port number (an integer from 1 to 65535)"],
    ["APP_DATABASE__PORT", "0", "database.port", "a port number (an integer from 1 to 65535)"],
    [
      "APP_APPLICATION__SHUTDOWN_GRACE_SECONDS",
      "3601",
      "application.shutdown_grace_seconds",
      "an integer from 0 to 3600",
    ],
    [
      "APP_APPLICATION__SHUTDOWN_GRACE_SECONDS",
      "-1",
      "application.shutdown_grace_seconds",
      "an integer from 0 to 3600",
    ],
  ])("refuses %s=%j", (variable, value, key, expected) => {
    expect(errorOf(() => load({ [variable]: value }))).toBe(invalid(`${key} (from ${variable}): expected ${expected}`));
  });
});

describe("values from variables", () => {
  it.each([
    ["true", true],
    ["false", false],
    ["TRUE", true],
    ["0", false],
  ])("reads APP_DATABASE__REQUIRE_SSL=%s as %s", (value, expected) => {
    expect(load({ APP_DATABASE__REQUIRE_SSL: value }).database.require_ssl).toBe(expected);
  });

  it("takes an empty password as given, and refuses an empty host", () => {
    expect(load({ APP_DATABASE__PASSWORD: "" }).database.password).toBe("");
    expect(errorOf(() => load({ APP_DATABASE__HOST: "" }))).toBe(
      invalid("database.host (from APP_DATABASE__HOST): expected a non-empty string"),
    );
  });

  it("reads a service username, and none when it is empty", () => {
    expect(load({ APP_DATABASE__SERVICE_USERNAME: "newsletter_app" }).database.service_username).toBe("newsletter_app");
    expect(load({ APP_DATABASE__SERVICE_USERNAME: "" }).database).not.toHaveProperty("service_username", "");
  });

  it("ignores variables that are unset, and names that only look like overrides", () => {
    expect(
      load({
        APP_DATABASE__HOST: undefined,
        XAPP_DATABASE__HOST: "x",
        app_database__host: "x",
        APP_DATABASEHOST: "x",
      }).database.host,
    ).toBe("127.0.0.1");
  });

  it("gives the same settings whatever the order of the variables", () => {
    const one = { APP_DATABASE__host: "lower", APP_DATABASE__HOST: "upper" };
    const other = { APP_DATABASE__HOST: "upper", APP_DATABASE__host: "lower" };
    expect(load(one)).toEqual(load(other));
  });

  it("names each unknown key, the variable that set it and the keys there are", () => {
    expect(
      errorOf(() => load({ APP_CACHE__SIZE: "1", APP_APPLICATION__HOSTNAME: "x", APP_APPLICATION__WORKERS: "2" })),
    ).toBe(
      invalid(
        "application.hostname (from APP_APPLICATION__HOSTNAME): unknown key; the keys here are port, host, version, shutdown_grace_seconds, log_level",
        "application.workers (from APP_APPLICATION__WORKERS): unknown key; the keys here are port, host, version, shutdown_grace_seconds, log_level",
        "cache (from APP_CACHE__SIZE): unknown key; the keys here are application, database, email_client",
      ),
    );
  });

  it("refuses a third level, which no section has", () => {
    expect(errorOf(() => load({ APP_DATABASE__HOST__NAME: "db" }))).toBe(
      invalid("database.host (from APP_DATABASE__HOST__NAME): expected a non-empty string"),
    );
  });

  it("lets the production file's password from a variable pass, and base.yaml's anywhere but local", async () => {
    expect(
      loadSettings({
        dir,
        env: { APP_ENVIRONMENT: "production", APP_DATABASE__HOST: "db", APP_DATABASE__PASSWORD: "x" },
      }).database.password,
    ).toBe("x");
    expect(loadSettings({ dir, environment: "local", env: {} }).database.password).toBe("password");
    const path = await folder({ "base.yaml": BASE, "staging.yaml": "database:\n  password: staging-secret\n" });
    expect(loadSettings({ dir: path, environment: "staging", env: {} }).database.password).toBe("staging-secret");
    expect(errorOf(() => loadSettings({ dir: path, environment: "local", env: {} }))).toBe(
      `Unknown APP_ENVIRONMENT "local": the environments available are staging (the *.yaml files in ${path} besides base.yaml).`,
    );
  });
});

describe("values from files", () => {
  it("layers the environment's file over base.yaml key by key, keeping the keys it does not set", async () => {
    const path = await folder({ "base.yaml": BASE, "local.yaml": "application:\n  port: 9000\n" });
    expect(loadSettings({ dir: path, env: {} }).application).toEqual({
      port: 9000,
      host: "127.0.0.1",
      version: "dev",
      shutdown_grace_seconds: 8,
      log_level: "info", // the schema's default: BASE does not set it
    });
  });

  it("refuses a log level that pino doesn't have, naming the ones it has", async () => {
    const path = await folder({ "base.yaml": BASE, "local.yaml": "" });
    expect(errorOf(() => loadSettings({ dir: path, env: { APP_APPLICATION__LOG_LEVEL: "verbose" } }))).toBe(
      invalid(
        "application.log_level (from APP_APPLICATION__LOG_LEVEL): expected a log level (fatal, error, warn, info, debug, trace or silent)",
      ),
    );
  });

  it("reads YAML booleans, an empty ca_cert and an empty version", async () => {
    const path = await folder({
      "base.yaml": BASE,
      "local.yaml": "application:\n  version: ''\ndatabase:\n  require_ssl: true\n  ca_cert:\n",
    });
    const settings = loadSettings({ dir: path, env: {} });
    expect([settings.database.require_ssl, settings.database.ca_cert, settings.application.version]).toEqual([
      true,
      undefined,
      "dev",
    ]);
  });

  it("names the file of a bad value inside a section that only that file sets", async () => {
    const path = await folder({
      "base.yaml": BASE.slice(0, BASE.indexOf("database:")) + BASE.slice(BASE.indexOf("email_client:")),
      "local.yaml":
        "database:\n  host: h\n  port: 5432\n  username: u\n  password: p\n  database_name: d\n  require_ssl: maybe\n",
    });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toBe(
      invalid(`database.require_ssl (from ${join(path, "local.yaml")}): expected a boolean (true or false)`),
    );
  });

  it("names an unknown key in a file, and a variable that replaces a file's section with a value", async () => {
    const path = await folder({ "base.yaml": `${BASE}logging:\n  level: debug\n`, "local.yaml": "" });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toBe(
      invalid(
        `logging (from ${join(path, "base.yaml")}): unknown key; the keys here are application, database, email_client`,
      ),
    );
  });

  it.each([
    ["database:\n  require_ssl: 1\n", "database.require_ssl", "a boolean (true or false)"],
    ["application:\n  version: 123\n", "application.version", "a non-empty string"],
    ["database:\n  password: 5\n", "database.password", "a string"],
    ["database:\n  ca_cert: 5\n", "database.ca_cert", "a string"],
  ])("refuses a YAML value of the wrong type: %j", async (text, key, expected) => {
    const path = await folder({ "base.yaml": BASE, "local.yaml": text });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toBe(
      invalid(`${key} (from ${join(path, "local.yaml")}): expected ${expected}`),
    );
  });

  it("reads a file of comments only as empty", async () => {
    const path = await folder({ "base.yaml": BASE, "local.yaml": "# nothing here\n" });
    expect(loadSettings({ dir: path, env: {} }).application.port).toBe(8000);
  });

  it.each([
    ["a list", "- application\n- database\n"],
    ["a scalar", "just text\n"],
  ])("refuses %s at the top level of a file", async (_case, text) => {
    const path = await folder({ "base.yaml": BASE, "local.yaml": text });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toBe(
      `${join(path, "local.yaml")}: expected a mapping of sections at the top level`,
    );
  });

  it("refuses a file whose aliases expand without end, naming the error but none of the text", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [i, name] of ["b", "c", "d", "e", "f"].entries()) {
      const previous = "abcde"[i];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    }
    const path = await folder({ "base.yaml": BASE, "local.yaml": `${levels.join("\n")}\n` });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toBe(
      `${join(path, "local.yaml")} is not valid YAML: ReferenceError`,
    );
  });

  it("names the code, line and column of a second document in a file", async () => {
    const path = await folder({ "base.yaml": BASE, "local.yaml": "application:\n  port: 1\n---\nb: 2\n" });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toBe(
      `${join(path, "local.yaml")} is not valid YAML: MULTIPLE_DOCS at line 3, column 1`,
    );
  });

  it("says which file it could not read", async () => {
    const path = await folder({ "local.yaml": "" });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toBe(
      `Cannot read ${join(path, "base.yaml")}: ENOENT: no such file or directory, open '${join(path, "base.yaml")}'`,
    );
  });
});

describe("listEnvironments", () => {
  it("lists the *.yaml files besides base.yaml, sorted", async () => {
    const path = await folder({
      "delta.yaml": "",
      "base.yaml": BASE,
      "alpha.yaml": "",
      "echo.yaml": "",
      "notes.txt": "",
      "charlie.yaml": "",
      "beta.yml": "",
      yaml: "",
      "bravo.yaml": "",
    });
    expect(listEnvironments(path)).toEqual(["alpha", "bravo", "charlie", "delta", "echo"]);
  });
});
