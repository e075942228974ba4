import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSettings, SettingsError } from "../../app/src/settings";
import { CONFIGURATION_DIR as dir } from "../app/helpers";

const folders: string[] = [];
afterAll(() => Promise.all(folders.map((path) => rm(path, { recursive: true, force: true }))));

/** A configuration folder with these files, for the cases the committed files don't cover; removed after the file. */
async function folder(files: Record<string, string>): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "newsletter-configuration-"));
  folders.push(path);
  for (const [name, text] of Object.entries(files)) await writeFile(join(path, name), text);
  return path;
}

function errorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error("expected loadSettings to throw");
}

describe("loadSettings with the committed configuration/", () => {
  it("defaults to the local environment: loopback, port 8000, a local Postgres without TLS", () => {
    expect(loadSettings({ dir, env: {} })).toEqual({
      application: { port: 8000, host: "127.0.0.1", version: "dev", shutdown_grace_seconds: 8, log_level: "info" },
      database: {
        host: "127.0.0.1",
        port: 5432,
        username: "postgres",
        password: "password",
        database_name: "newsletter",
        require_ssl: false,
      },
      email_client: {
        base_url: "http://localhost",
        sender_email: "test@example.com",
        authorization_token: "my-secret-token",
        timeout_milliseconds: 10000,
      },
    });
  });

  it("reads the email client section from the files and from APP_EMAIL_CLIENT__* variables", () => {
    const settings = loadSettings({
      dir,
      env: {
        APP_ENVIRONMENT: "production",
        APP_DATABASE__HOST: "db.internal",
        APP_DATABASE__PASSWORD: "s3cret",
        APP_EMAIL_CLIENT__SENDER_EMAIL: "news@example.org",
        APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN: "pm-token",
        APP_EMAIL_CLIENT__TIMEOUT_MILLISECONDS: "2500",
      },
    });
    expect(settings.email_client).toEqual({
      base_url: "https://api.postmarkapp.com",
      sender_email: "news@example.org",
      authorization_token: "pm-token",
      timeout_milliseconds: 2500,
    });
  });

  it("refuses a bad email client setting, naming the variable, and a section the schema does not declare", () => {
    expect(() =>
      loadSettings({ dir, env: { APP_EMAIL_CLIENT__SENDER_EMAIL: "not-an-address", APP_NEWSLETTER__X: "1" } }),
    ).toThrow(
      /email_client\.sender_email \(from APP_EMAIL_CLIENT__SENDER_EMAIL\): expected an email address[\s\S]*newsletter \(from APP_NEWSLETTER__X\): unknown key/,
    );
    expect(() => loadSettings({ dir, env: { APP_EMAIL_CLIENT__BASE_URL: "ftp://mail" } })).toThrow(
      /email_client\.base_url \(from APP_EMAIL_CLIENT__BASE_URL\): expected an http:\/\/ or https:\/\/ URL/,
    );
  });

  it("in production listens on every interface and requires TLS, with the host from APP_DATABASE__HOST", () => {
    const settings = loadSettings({
      dir,
      env: { APP_ENVIRONMENT: "production", APP_DATABASE__HOST: "db.internal", APP_DATABASE__PASSWORD: "s3cret" },
    });
    expect(settings.application.host).toBe("0.0.0.0");
    expect(settings.application.port).toBe(8000);
    expect(settings.database.require_ssl).toBe(true);
    expect(settings.database.host).toBe("db.internal");
  });

  it("takes the environment from the argument before APP_ENVIRONMENT", () => {
    const settings = loadSettings({ dir, environment: "local", env: { APP_ENVIRONMENT: "production" } });
    expect(settings.application.host).toBe("127.0.0.1");
  });

  it("lets APP_<SECTION>__<KEY> override any key, coercing strings to the schema's types", () => {
    const settings = loadSettings({
      dir,
      env: {
        APP_APPLICATION__PORT: "9000",
        APP_APPLICATION__VERSION: "3f2c1ab",
        APP_APPLICATION__SHUTDOWN_GRACE_SECONDS: "3",
        APP_DATABASE__PORT: "25060",
        APP_DATABASE__REQUIRE_SSL: "true",
        APP_DATABASE__CA_CERT: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        APP_DATABASE__PASSWORD: "from-the-platform",
        APP_APPLICATION__LOG_LEVEL: "warn",
      },
    });
    expect(settings.application).toEqual({
      port: 9000,
      host: "127.0.0.1",
      version: "3f2c1ab",
      shutdown_grace_seconds: 3,
      log_level: "warn",
    });
    expect(settings.database).toMatchObject({
      port: 25060,
      require_ssl: true,
      password: "from-the-platform",
      ca_cert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    });
  });

  it("ignores APP_ variables without a `__` (APP_ENVIRONMENT, APP_URL) and unrelated variables", () => {
    const settings = loadSettings({ dir, env: { APP_URL: "https://x", PORT: "1", DATABASE_URL: "postgres://x" } });
    expect(settings.application.port).toBe(8000);
  });

  it("reports version dev when APP_APPLICATION__VERSION is empty (an image built without APP_VERSION)", () => {
    expect(loadSettings({ dir, env: { APP_APPLICATION__VERSION: "" } }).application.version).toBe("dev");
  });

  it("treats an empty APP_ENVIRONMENT as unset: the local environment", () => {
    expect(loadSettings({ dir, env: { APP_ENVIRONMENT: "" } })).toEqual(loadSettings({ dir, env: {} }));
  });

  it("accepts an integer with a sign and surrounding spaces", () => {
    const settings = loadSettings({ dir, env: { APP_APPLICATION__PORT: " +9000 " } });
    expect(settings.application.port).toBe(9000);
  });

  it("treats an empty APP_DATABASE__CA_CERT as no CA", () => {
    expect(loadSettings({ dir, env: { APP_DATABASE__CA_CERT: "" } }).database.ca_cert).toBeUndefined();
  });

  it("returns a frozen object, all the way down", () => {
    const settings = loadSettings({ dir, env: {} });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.database)).toBe(true);
    expect(() => {
      (settings.database as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it("reads nothing but its arguments: process.env plays no part", () => {
    process.env.APP_APPLICATION__PORT = "1234";
    try {
      expect(loadSettings({ dir, env: {} }).application.port).toBe(8000);
    } finally {
      delete process.env.APP_APPLICATION__PORT;
    }
  });
});

describe("loadSettings errors", () => {
  it("lists the environments available when APP_ENVIRONMENT names no file", () => {
    expect(errorOf(() => loadSettings({ dir, env: { APP_ENVIRONMENT: "staging" } }))).toBe(
      `Unknown APP_ENVIRONMENT "staging": the environments available are local, production ` +
        `(the *.yaml files in ${dir} besides base.yaml).`,
    );
  });

  it("refuses an environment name that would reach outside the folder", () => {
    expect(errorOf(() => loadSettings({ dir, env: { APP_ENVIRONMENT: "../configuration/local" } }))).toMatch(
      /^Unknown APP_ENVIRONMENT "\.\.\/configuration\/local": the environments available are local, production/,
    );
  });

  it("names the variable, the key and the expected type for a port of abc", () => {
    expect(errorOf(() => loadSettings({ dir, env: { APP_APPLICATION__PORT: "abc" } }))).toBe(
      "Invalid settings:\n  - application.port (from APP_APPLICATION__PORT): expected a port number (an integer from 1 to 65535)",
    );
  });

  it.each(["0x1F", "0b11", "0o17", "1e3", "80.0", " 1 2 "])(
    "refuses the port %j, which Number() would read as a number, naming the variable",
    (value) => {
      expect(errorOf(() => loadSettings({ dir, env: { APP_APPLICATION__PORT: value } }))).toBe(
        "Invalid settings:\n  - application.port (from APP_APPLICATION__PORT): expected a port number (an integer from 1 to 65535)",
      );
    },
  );

  it("lists every bad value at once", () => {
    const message = errorOf(() =>
      loadSettings({
        dir,
        env: {
          APP_DATABASE__PORT: "70000",
          APP_DATABASE__REQUIRE_SSL: "maybe",
          APP_APPLICATION__SHUTDOWN_GRACE_SECONDS: "2.5",
        },
      }),
    );
    expect(message).toBe(
      [
        "Invalid settings:",
        "  - application.shutdown_grace_seconds (from APP_APPLICATION__SHUTDOWN_GRACE_SECONDS): expected an integer from 0 to 3600",
        "  - database.port (from APP_DATABASE__PORT): expected a port number (an integer from 1 to 65535)",
        "  - database.require_ssl (from APP_DATABASE__REQUIRE_SSL): expected a boolean (true or false)",
      ].join("\n"),
    );
  });

  it("names the variable of a key that doesn't exist, and the keys that do", () => {
    expect(errorOf(() => loadSettings({ dir, env: { APP_DATABASE__HOSTNAME: "db" } }))).toBe(
      "Invalid settings:\n  - database.hostname (from APP_DATABASE__HOSTNAME): unknown key; " +
        "the keys here are host, port, username, password, database_name, require_ssl, ca_cert, service_username",
    );
  });

  it("refuses base.yaml's development password outside local, naming the variable to set", () => {
    expect(
      errorOf(() => loadSettings({ dir, env: { APP_ENVIRONMENT: "production", APP_DATABASE__HOST: "db.internal" } })),
    ).toBe(
      `Invalid settings:\n  - database.password is the development default of ${join(dir, "base.yaml")}: the ` +
        "production environment needs its own, from APP_DATABASE__PASSWORD",
    );
  });

  it("names the files and the variable that could set a missing key", () => {
    expect(errorOf(() => loadSettings({ dir, env: { APP_ENVIRONMENT: "production" } }))).toBe(
      `Invalid settings:\n  - database.host is not set (in ${join(dir, "base.yaml")}, ${join(dir, "production.yaml")} ` +
        "or APP_DATABASE__HOST): expected a non-empty string",
    );
  });

  it("names the file, the key and the expected type for a bad value in a YAML file", async () => {
    const path = await folder({
      "base.yaml": await readFile(join(dir, "base.yaml"), "utf8"),
      "local.yaml": "application:\n  port: eighty\n  host: 127.0.0.1\ndatabase:\n  host: 127.0.0.1\n",
    });
    const message = errorOf(() => loadSettings({ dir: path, env: {} }));
    expect(message).toBe(
      `Invalid settings:\n  - application.port (from ${join(path, "local.yaml")}): expected a port number (an integer from 1 to 65535)`,
    );
  });

  it("names the file that isn't valid YAML", async () => {
    const path = await folder({ "base.yaml": "application: [\n", "local.yaml": "" });
    expect(errorOf(() => loadSettings({ dir: path, env: {} }))).toMatch(
      new RegExp(`^${join(path, "base.yaml").replaceAll("/", "\\/")} is not valid YAML: `),
    );
  });

  it("names the file, line and column of a YAML syntax error, but not the text there, which may be a secret", async () => {
    const path = await folder({
      "base.yaml": "database:\n  password: s3cret-value\n   port: 5432\n",
      "local.yaml": "",
    });
    const message = errorOf(() => loadSettings({ dir: path, env: {} }));
    expect(message).toBe(`${join(path, "base.yaml")} is not valid YAML: BLOCK_AS_IMPLICIT_KEY at line 2, column 13`);
    expect(message).not.toContain("s3cret-value");
  });

  it("says which folder it could not read", () => {
    expect(errorOf(() => loadSettings({ dir: "/nonexistent/configuration", env: {} }))).toMatch(
      /^Cannot read the configuration folder \/nonexistent\/configuration: ENOENT/,
    );
  });
});
