import { describe, expect, it } from "vitest";
import { POOL_MAX } from "../../app/src/database";
import {
  CONFIG_KEYS,
  DATABASE_CONNECTION_LIMITS,
  DATABASE_SIZES,
  MAP_CONFIG_KEYS,
  parseStackConfig,
  SERVICE_POOL_SIZE,
  StackConfigError,
} from "../../infra/config";

const parse = (stack: string, values: Record<string, string> = {}) =>
  parseStackConfig({ project: "newsletter", stack, values });

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a StackConfigError");
}

const header = (stack: string) =>
  `Invalid configuration for stack "${stack}" (Pulumi.${stack}.yaml, or the defaults in Pulumi.yaml):\n`;
const footer = (stack: string) => `\nFix it with \`pulumi config set <key> <value> --stack ${stack}\`.`;

describe("parseStackConfig", () => {
  it("gives a per-PR stack with no settings the smallest preview: one small instance, a dev database, no domain", () => {
    expect(parse("pr-42")).toEqual({
      project: "newsletter",
      stack: "pr-42",
      appVersion: undefined,
      appSettings: { env: {}, secrets: {} },
      target: "digitalocean",
      registry: { name: "newsletter", create: false, tier: "basic" },
      imageRepository: "newsletter",
      region: "fra",
      instanceSize: "apps-s-1vcpu-0.5gb",
      instanceCount: 1,
      database: { kind: "dev", version: "17" },
      domain: undefined,
    });
  });

  it("reads production's cluster settings, typed", () => {
    const config = parse("production", {
      appVersion: "0123abc",
      instanceSize: "apps-s-1vcpu-1gb",
      instanceCount: "2",
      database: "cluster",
      databaseRegion: "fra1",
      databaseVersion: "17",
      databaseSize: "db-s-1vcpu-2gb",
      databaseNodeCount: "2",
      protectDatabase: "true",
      domain: "news.example.com",
      domainZone: "example.com",
    });
    expect(config).toMatchObject({
      appVersion: "0123abc",
      target: "digitalocean",
      instanceSize: "apps-s-1vcpu-1gb",
      instanceCount: 2,
      database: { kind: "cluster", region: "fra1", version: "17", size: "db-s-1vcpu-2gb", nodeCount: 2, protect: true },
      domain: { name: "news.example.com", zone: "example.com" },
    });
  });

  it("gives the stack named local the local Docker settings, and ignores the DigitalOcean keys there", () => {
    expect(parse("local", { localPostgresPassword: "pw", region: "not-checked-here" })).toEqual({
      project: "newsletter",
      stack: "local",
      appVersion: undefined,
      appSettings: { env: {}, secrets: {} },
      target: "local",
      postgresImage: "postgres:17",
      networkMode: "bridge",
      keepDataOnDestroy: true,
      port: 8000,
      postgresPort: 5432,
      postgresPassword: "pw",
    });
  });

  it("returns a frozen object", () => {
    const config = parse("pr-1");
    expect(Object.isFrozen(config)).toBe(true);
    if (config.target === "digitalocean") expect(Object.isFrozen(config.registry)).toBe(true);
  });
});

describe("the connection budget's figures", () => {
  it("use the pool size the service really opens (app/src/database.ts)", () => {
    expect(SERVICE_POOL_SIZE).toBe(POOL_MAX);
  });

  it("know the connection limit of every database size the config accepts", () => {
    expect(Object.keys(DATABASE_CONNECTION_LIMITS).sort()).toEqual([...DATABASE_SIZES].sort());
  });

  it("pin a PR stack's dev database to the cluster's version key, so previews run production's major version", () => {
    expect(parse("pr-11", { databaseVersion: "16" })).toMatchObject({ database: { kind: "dev", version: "16" } });
  });
});

describe("parseStackConfig with a wrong setting", () => {
  it("names an app region given where a database region belongs", () => {
    expect(errorOf(() => parse("pr-3", { region: "fra1" }))).toBe(
      header("pr-3") +
        '  - newsletter:region: "fra1" is not accepted; it is a database region. App Platform regions are ams, blr, ' +
        'fra, lon, nyc, sfo, sgp, syd, tor (here "fra"); database regions go in newsletter:databaseRegion' +
        footer("pr-3"),
    );
  });

  it("names a database region given as an app region", () => {
    expect(errorOf(() => parse("production", { database: "cluster", databaseRegion: "ams" }))).toBe(
      header("production") +
        '  - newsletter:databaseRegion: "ams" is not accepted; it is an App Platform region. Database regions are ' +
        'ams3, blr1, fra1, lon1, nyc1, nyc2, nyc3, sfo2, sfo3, sgp1, syd1, tor1 (here "ams3")' +
        footer("production"),
    );
  });

  it("lists the accepted instance sizes for an unknown one", () => {
    expect(errorOf(() => parse("pr-4", { instanceSize: "basic-xxs" }))).toBe(
      header("pr-4") +
        '  - newsletter:instanceSize: "basic-xxs" is not accepted; expected one of apps-s-1vcpu-0.5gb, ' +
        "apps-s-1vcpu-1gb, apps-s-1vcpu-2gb, apps-s-2vcpu-4gb" +
        footer("pr-4"),
    );
  });

  it("refuses a negative instance count", () => {
    expect(errorOf(() => parse("pr-5", { instanceCount: "-1" }))).toBe(
      `${header("pr-5")}  - newsletter:instanceCount: "-1" is not accepted; expected an integer from 1 to 10${footer("pr-5")}`,
    );
  });

  it("refuses a missing registry name", () => {
    expect(errorOf(() => parse("pr-6", { registryName: "" }))).toBe(
      header("pr-6") +
        '  - newsletter:registryName: "" is not accepted; expected at most 63 lower-case letters, digits and ' +
        "hyphens, starting with a letter and not ending with a hyphen" +
        footer("pr-6"),
    );
  });

  it("reports every problem at once, unknown keys included", () => {
    const message = errorOf(() => parse("pr-7", { instanceCount: "0", regoin: "fra", createRegistry: "yes" }));
    expect(message).toBe(
      header("pr-7") +
        [
          `  - newsletter:regoin: unknown key; the keys are ${[...Object.keys(CONFIG_KEYS), ...MAP_CONFIG_KEYS].join(", ")}`,
          '  - newsletter:createRegistry: "yes" is not accepted; expected true or false',
          '  - newsletter:instanceCount: "0" is not accepted; expected an integer from 1 to 10',
        ].join("\n") +
        footer("pr-7"),
    );
  });

  it("refuses standby nodes on the smallest database size", () => {
    expect(errorOf(() => parse("production", { database: "cluster", databaseNodeCount: "2" }))).toBe(
      header("production") +
        "  - newsletter:databaseNodeCount: 2 needs standby nodes, which db-s-1vcpu-1gb can't have; use 1, or a larger " +
        "newsletter:databaseSize (db-s-1vcpu-2gb, db-s-2vcpu-4gb, db-s-4vcpu-8gb)" +
        footer("production"),
    );
  });

  it("refuses a cluster in another metro than the app", () => {
    expect(errorOf(() => parse("production", { database: "cluster", databaseRegion: "nyc3" }))).toBe(
      header("production") +
        '  - newsletter:databaseRegion: "nyc3" is not in the app\'s region "fra" (newsletter:region); use one of fra1, ' +
        "or move the app" +
        footer("production"),
    );
  });

  it("refuses protection for a dev database", () => {
    expect(errorOf(() => parse("pr-9", { protectDatabase: "true" }))).toBe(
      header("pr-9") +
        '  - newsletter:protectDatabase: true needs newsletter:database "cluster"; a dev database lives and dies ' +
        "with the app and can't be protected on its own" +
        footer("pr-9"),
    );
  });

  it("refuses more than one instance of a size App Platform runs as a single instance only, naming both keys", () => {
    expect(errorOf(() => parse("pr-10", { instanceCount: "2" }))).toBe(
      header("pr-10") +
        '  - newsletter:instanceCount: 2 instances of newsletter:instanceSize "apps-s-1vcpu-0.5gb", which App ' +
        "Platform runs as a single instance only; use newsletter:instanceCount 1, or a newsletter:instanceSize " +
        "that scales (apps-s-1vcpu-1gb, apps-s-1vcpu-2gb, apps-s-2vcpu-4gb)" +
        footer("pr-10"),
    );
    expect(parse("pr-10", { instanceCount: "2", instanceSize: "apps-s-1vcpu-1gb" })).toMatchObject({
      instanceCount: 2,
    });
  });

  it("refuses instances whose pools, doubled during a rolling deploy, overflow the cluster's connection limit", () => {
    const cluster = { database: "cluster", instanceSize: "apps-s-1vcpu-1gb" };
    expect(errorOf(() => parse("production", { ...cluster, instanceCount: "2" }))).toBe(
      header("production") +
        "  - newsletter:instanceCount: 2 instances × 10 connections each (the service's pool) × 2 (old and new " +
        "instances side by side during a rolling deploy) = 40 connections, more than the 22 that " +
        'newsletter:databaseSize "db-s-1vcpu-1gb" accepts; use newsletter:instanceCount 1 or fewer, or a ' +
        "newsletter:databaseSize with room for 40 (db-s-1vcpu-2gb accepts 47, db-s-2vcpu-4gb accepts 97, " +
        "db-s-4vcpu-8gb accepts 197)" +
        footer("production"),
    );
    expect(
      errorOf(() => parse("production", { ...cluster, instanceCount: "10", databaseSize: "db-s-2vcpu-4gb" })),
    ).toBe(
      header("production") +
        "  - newsletter:instanceCount: 10 instances × 10 connections each (the service's pool) × 2 (old and new " +
        "instances side by side during a rolling deploy) = 200 connections, more than the 97 that " +
        'newsletter:databaseSize "db-s-2vcpu-4gb" accepts; use newsletter:instanceCount 4 or fewer, or fewer ' +
        "instances: no newsletter:databaseSize offered here accepts 200" +
        footer("production"),
    );
    // Production's own settings fit: 2 × 10 × 2 = 40 of 47.
    expect(parse("production", { ...cluster, instanceCount: "2", databaseSize: "db-s-1vcpu-2gb" })).toMatchObject({
      instanceCount: 2,
      database: { size: "db-s-1vcpu-2gb" },
    });
  });

  it("refuses the cluster-only access switches for a dev database, naming each key", () => {
    expect(
      errorOf(() => parse("pr-12", { databaseTrustedSources: "open", migrationDatabaseAccess: "admin-secret" })),
    ).toBe(
      header("pr-12") +
        '  - newsletter:databaseTrustedSources: "open" needs newsletter:database "cluster"; a dev database has one ' +
        "user and no trusted sources of its own\n" +
        '  - newsletter:migrationDatabaseAccess: "admin-secret" needs newsletter:database "cluster"; a dev database ' +
        "has one user and no trusted sources of its own" +
        footer("pr-12"),
    );
    expect(
      parse("production", {
        database: "cluster",
        databaseTrustedSources: "open",
        migrationDatabaseAccess: "admin-secret",
      }),
    ).toMatchObject({ database: { trustedSources: "open", migrationAccess: "admin-secret" } });
  });

  it("asks the local stack for its Postgres password", () => {
    expect(errorOf(() => parse("local"))).toBe(
      header("local") +
        "  - newsletter:localPostgresPassword is empty; `npm run up:local` stores a generated one, or run " +
        "`pulumi config set --secret localPostgresPassword <password> --stack local`" +
        footer("local"),
    );
  });

  it("reads appEnv and appSecrets as maps of APP_<SECTION>__<KEY> names, for every stack", () => {
    const config = parse("production", {
      appEnv: JSON.stringify({
        APP_EMAIL_CLIENT__SENDER_EMAIL: "news@example.org",
        APP_EMAIL_CLIENT__TIMEOUT_MILLISECONDS: 2500,
      }),
      appSecrets: JSON.stringify({ APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN: "pm-token" }),
    });
    expect(config.appSettings).toEqual({
      env: { APP_EMAIL_CLIENT__SENDER_EMAIL: "news@example.org", APP_EMAIL_CLIENT__TIMEOUT_MILLISECONDS: "2500" },
      secrets: { APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN: "pm-token" },
    });
    const local = parse("local", {
      localPostgresPassword: "pw",
      appEnv: '{"APP_EMAIL_CLIENT__BASE_URL":"http://mail"}',
    });
    expect(local.appSettings.env).toEqual({ APP_EMAIL_CLIENT__BASE_URL: "http://mail" });
  });

  it("refuses a bad app setting name, a generated variable and a name in both maps, naming each key", () => {
    const message = errorOf(() =>
      parse("pr-3", {
        appEnv: JSON.stringify({
          app_email__x: "1",
          APP_EMAILCLIENT: "1",
          APP_DATABASE__HOST: "evil.example.com",
          APP_EMAIL_CLIENT__BASE_URL: "http://mail",
        }),
        appSecrets: JSON.stringify({ APP_EMAIL_CLIENT__BASE_URL: "s3cret-value", APP_X__Y: { nested: true } }),
      }),
    );
    expect(message).toContain("newsletter:appEnv.app_email__x: not an app setting; names are APP_<SECTION>__<KEY>");
    expect(message).toContain("newsletter:appEnv.APP_EMAILCLIENT: not an app setting");
    expect(message).toContain(
      "newsletter:appEnv.APP_DATABASE__HOST: the stack sets this variable itself; the generated ones are APP_ENVIRONMENT,",
    );
    expect(message).toContain(
      "newsletter:appEnv.APP_EMAIL_CLIENT__BASE_URL is also in newsletter:appSecrets; set it in one of them",
    );
    expect(message).toContain("newsletter:appSecrets.APP_X__Y: expected a string, number or boolean value");
    expect(message).not.toContain("s3cret-value");
  });

  it("refuses appSecrets that is not a map without quoting it", () => {
    const message = errorOf(() => parse("pr-3", { appSecrets: "hunter2-not-json" }));
    expect(message).toContain(
      "newsletter:appSecrets: expected a map of APP_<SECTION>__<KEY> names to values (`pulumi config set --secret --path 'appSecrets.APP_<SECTION>__<KEY>' <value>`)",
    );
    expect(message).not.toContain("hunter2");
  });
});
