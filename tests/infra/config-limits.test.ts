// The edges of every stack setting (infra/config.ts): the last value each key accepts and the first it refuses,
// and the whole message a user sees, so that a looser or stricter rule, or a changed word, fails here.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONFIG_KEYS, MAP_CONFIG_KEYS, PROJECT, parseStackConfig, StackConfigError } from "../../infra/config";

const parse = (stack: string, values: Record<string, string> = {}) =>
  parseStackConfig({ project: "newsletter", stack, values });
const local = (values: Record<string, string> = {}) => parse("local", { localPostgresPassword: "pw", ...values });

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    expect((error as Error).name).toBe("StackConfigError");
    return (error as Error).message;
  }
  throw new Error("expected a StackConfigError");
}

/** The whole message for these problems on this stack. */
const invalid = (stack: string, ...problems: string[]) =>
  `Invalid configuration for stack "${stack}" (Pulumi.${stack}.yaml, or the defaults in Pulumi.yaml):\n` +
  problems.map((p) => `  - ${p}\n`).join("") +
  `Fix it with \`pulumi config set <key> <value> --stack ${stack}\`.`;

const SLUG = "at most 63 lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen";

describe("integer settings at their limits", () => {
  it.each([
    ["instanceCount", "1", 1],
    ["instanceCount", "10", 10],
  ])("accepts %s %s", (key, value, expected) => {
    expect(parse("pr-1", { [key]: value, instanceSize: "apps-s-1vcpu-1gb" })).toMatchObject({
      instanceCount: expected,
    });
  });

  it.each(["0", "11", "1.5", "1e1", "abc", "", " 2"])("refuses instanceCount %j", (value) => {
    expect(errorOf(() => parse("pr-1", { instanceCount: value, instanceSize: "apps-s-1vcpu-1gb" }))).toBe(
      invalid(
        "pr-1",
        `newsletter:instanceCount: ${JSON.stringify(value)} is not accepted; expected an integer from 1 to 10`,
      ),
    );
  });

  it("accepts three database nodes on a larger size, and refuses four", () => {
    const cluster = { database: "cluster", databaseSize: "db-s-1vcpu-2gb" };
    expect(parse("production", { ...cluster, databaseNodeCount: "3" })).toMatchObject({
      database: { kind: "cluster", size: "db-s-1vcpu-2gb", nodeCount: 3 },
    });
    expect(errorOf(() => parse("production", { ...cluster, databaseNodeCount: "4" }))).toBe(
      invalid("production", 'newsletter:databaseNodeCount: "4" is not accepted; expected an integer from 1 to 3'),
    );
    expect(errorOf(() => parse("production", { ...cluster, databaseNodeCount: "0" }))).toBe(
      invalid("production", 'newsletter:databaseNodeCount: "0" is not accepted; expected an integer from 1 to 3'),
    );
  });

  it.each(["localPort", "localPostgresPort"])("accepts %s from 1 to 65535", (key) => {
    const field = key === "localPort" ? "port" : "postgresPort";
    expect(local({ [key]: "1" })).toMatchObject({ [field]: 1 });
    expect(local({ [key]: "65535" })).toMatchObject({ [field]: 65_535 });
    for (const value of ["0", "65536", "-1", "80a"]) {
      expect(errorOf(() => local({ [key]: value }))).toBe(
        invalid(
          "local",
          `newsletter:${key}: ${JSON.stringify(value)} is not accepted; expected an integer from 1 to 65535`,
        ),
      );
    }
  });
});

describe("names (registry, image repository)", () => {
  it.each(["registryName", "imageRepository"])("%s accepts 63 characters, inner hyphens and digits", (key) => {
    const longest = `a${"b1-".repeat(20)}cd`;
    expect(longest).toHaveLength(63);
    const config = parse("pr-1", { [key]: longest });
    expect(config.target === "digitalocean" && [config.registry.name, config.imageRepository]).toContain(longest);
    expect(parse("pr-1", { [key]: "a" })).toBeDefined();
  });

  it.each([
    ["64 characters", "a".repeat(64)],
    ["a trailing hyphen", "newsletter-"],
    ["a leading digit", "1newsletter"],
    ["a leading hyphen", "-newsletter"],
    ["upper case", "Newsletter"],
    ["an underscore", "news_letter"],
    ["a dot", "news.letter"],
    ["a space inside", "news letter"],
    ["a newline after it", "newsletter\n"],
  ])("registryName and imageRepository refuse %s", (_case, value) => {
    for (const key of ["registryName", "imageRepository"]) {
      expect(errorOf(() => parse("pr-1", { [key]: value }))).toBe(
        invalid("pr-1", `newsletter:${key}: ${JSON.stringify(value)} is not accepted; expected ${SLUG}`),
      );
    }
  });
});

describe("the database", () => {
  it("accepts a one-node cluster on the smallest size, the cheapest valid cluster", () => {
    expect(parse("production", { database: "cluster" })).toEqual({
      project: "newsletter",
      stack: "production",
      appVersion: undefined,
      appSettings: { env: {}, secrets: {} },
      target: "digitalocean",
      registry: { name: "newsletter", create: false, tier: "basic" },
      imageRepository: "newsletter",
      region: "fra",
      instanceSize: "apps-s-1vcpu-0.5gb",
      instanceCount: 1,
      database: {
        kind: "cluster",
        region: "fra1",
        version: "17",
        size: "db-s-1vcpu-1gb",
        nodeCount: 1,
        protect: false,
        trustedSources: "app",
        migrationAccess: "attachment",
      },
      domain: undefined,
    });
  });

  it("leaves node count and size alone for a dev database, which has neither", () => {
    expect(parse("pr-1", { databaseNodeCount: "2" })).toMatchObject({ database: { kind: "dev" } });
  });

  it.each([
    ["2", "2 needs standby nodes"],
    ["3", "3 needs standby nodes"],
  ])("refuses %s nodes on the smallest size with the whole explanation", (count) => {
    expect(errorOf(() => parse("production", { database: "cluster", databaseNodeCount: count }))).toBe(
      invalid(
        "production",
        `newsletter:databaseNodeCount: ${count} needs standby nodes, which db-s-1vcpu-1gb can't have; use 1, or a ` +
          "larger newsletter:databaseSize (db-s-1vcpu-2gb, db-s-2vcpu-4gb, db-s-4vcpu-8gb)",
      ),
    );
  });

  it("refuses a cluster in another metro, naming the database regions of the app's metro", () => {
    expect(errorOf(() => parse("production", { database: "cluster", region: "nyc", databaseRegion: "sfo3" }))).toBe(
      invalid(
        "production",
        'newsletter:databaseRegion: "sfo3" is not in the app\'s region "nyc" (newsletter:region); use one of nyc1, ' +
          "nyc2, nyc3, or move the app",
      ),
    );
    expect(parse("production", { database: "cluster", region: "nyc", databaseRegion: "nyc2" })).toMatchObject({
      region: "nyc",
      database: { region: "nyc2" },
    });
  });

  it("does not compare metros when a region is itself invalid: one problem, one line", () => {
    expect(errorOf(() => parse("production", { database: "cluster", region: "mars" }))).toBe(
      invalid(
        "production",
        'newsletter:region: "mars" is not accepted; expected one of ams, blr, fra, lon, nyc, sfo, sgp, syd, tor',
      ),
    );
    expect(errorOf(() => parse("production", { database: "cluster", databaseRegion: "mars1" }))).toBe(
      invalid(
        "production",
        'newsletter:databaseRegion: "mars1" is not accepted; expected one of ams3, blr1, fra1, lon1, nyc1, nyc2, ' +
          "nyc3, sfo2, sfo3, sgp1, syd1, tor1",
      ),
    );
  });

  it("does not compare metros for a dev database, which has no region", () => {
    expect(parse("pr-1", { region: "nyc" })).toMatchObject({ region: "nyc", database: { kind: "dev" } });
  });

  it("names the database region that matches an app region given in its place", () => {
    expect(errorOf(() => parse("production", { database: "cluster", region: "blr", databaseRegion: "blr" }))).toBe(
      invalid(
        "production",
        'newsletter:databaseRegion: "blr" is not accepted; it is an App Platform region. Database regions are ' +
          'ams3, blr1, fra1, lon1, nyc1, nyc2, nyc3, sfo2, sfo3, sgp1, syd1, tor1 (here "blr1")',
      ),
    );
  });

  it("names the app region of a database region given in its place", () => {
    expect(errorOf(() => parse("pr-3", { region: "sgp1" }))).toBe(
      invalid(
        "pr-3",
        'newsletter:region: "sgp1" is not accepted; it is a database region. App Platform regions are ams, blr, ' +
          'fra, lon, nyc, sfo, sgp, syd, tor (here "sgp"); database regions go in newsletter:databaseRegion',
      ),
    );
  });

  it("refuses protection for a dev database with the whole explanation, and allows it for a cluster", () => {
    expect(errorOf(() => parse("pr-9", { protectDatabase: "true" }))).toBe(
      invalid(
        "pr-9",
        'newsletter:protectDatabase: true needs newsletter:database "cluster"; a dev database lives and dies with ' +
          "the app and can't be protected on its own",
      ),
    );
    expect(parse("pr-9", { protectDatabase: "false" })).toMatchObject({ database: { kind: "dev" } });
    expect(parse("production", { database: "cluster", protectDatabase: "true" })).toMatchObject({
      database: { protect: true },
    });
  });

  it.each(["15", "16", "17"])("accepts PostgreSQL %s and refuses others", (version) => {
    expect(parse("production", { database: "cluster", databaseVersion: version })).toMatchObject({
      database: { version },
    });
    expect(errorOf(() => parse("production", { database: "cluster", databaseVersion: "14" }))).toBe(
      invalid("production", 'newsletter:databaseVersion: "14" is not accepted; expected one of 15, 16, 17'),
    );
  });
});

describe("the other DigitalOcean settings", () => {
  it("reads the registry settings and trims the app version", () => {
    expect(
      parse("production", { createRegistry: "true", registryTier: "professional", appVersion: "  abc1234  " }),
    ).toMatchObject({ appVersion: "abc1234", registry: { name: "newsletter", create: true, tier: "professional" } });
    expect(parse("pr-1", { appVersion: "   " })).toMatchObject({ appVersion: undefined });
  });

  it.each([
    "news.example.com",
    "a.io",
    `${"a".repeat(63)}.example.com`,
    "x-1.y2.example.museum",
    `${`${"a".repeat(63)}.`.repeat(3)}${"b".repeat(57)}.com`, // 253 characters
    `example.${"z".repeat(63)}`,
  ])("accepts the domain %s", (domain) => {
    expect(parse("production", { domain })).toMatchObject({ domain: { name: domain, zone: undefined } });
  });

  it.each([
    "News.example.com",
    "example",
    "news.example.c",
    "-news.example.com",
    "news-.example.com",
    "news..example.com",
    "news.example.com.",
    `${"a".repeat(64)}.example.com`,
    `${`${"a".repeat(63)}.`.repeat(3)}${"b".repeat(58)}.com`, // 254 characters
    `example.${"z".repeat(64)}`,
    "example.c0m",
    "news.example.com/",
    " news.example.com",
  ])("refuses the domain %j", (domain) => {
    expect(errorOf(() => parse("production", { domain }))).toBe(
      invalid(
        "production",
        `newsletter:domain: ${JSON.stringify(domain)} is not accepted; expected a lower-case host name such as ` +
          '"newsletter.example.com", or "" for none',
      ),
    );
  });

  it("reads a domain's zone, and none when it is empty", () => {
    expect(parse("production", { domain: "news.example.com", domainZone: "example.com" })).toMatchObject({
      domain: { name: "news.example.com", zone: "example.com" },
    });
  });

  it("freezes the nested settings too", () => {
    const config = parse("production", { database: "cluster", domain: "news.example.com" });
    if (config.target !== "digitalocean") throw new Error("expected a DigitalOcean stack");
    expect([Object.isFrozen(config.database), Object.isFrozen(config.domain)]).toEqual([true, true]);
  });

  it("gives the region hint only for the region keys", () => {
    expect(errorOf(() => parse("pr-1", { instanceSize: "fra1", registryTier: "nyc" }))).toBe(
      invalid(
        "pr-1",
        'newsletter:registryTier: "nyc" is not accepted; expected one of starter, basic, professional',
        'newsletter:instanceSize: "fra1" is not accepted; expected one of apps-s-1vcpu-0.5gb, apps-s-1vcpu-1gb, ' +
          "apps-s-1vcpu-2gb, apps-s-2vcpu-4gb",
      ),
    );
  });

  it("names the project as Pulumi.yaml does", () => {
    const pulumiYaml = parseYaml(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8"));
    expect(PROJECT).toBe(pulumiYaml.name);
  });

  it("names an unknown key and lists every key there is", () => {
    expect(errorOf(() => parse("pr-2", { instanceCont: "2" }))).toBe(
      invalid(
        "pr-2",
        `newsletter:instanceCont: unknown key; the keys are ${[...Object.keys(CONFIG_KEYS), ...MAP_CONFIG_KEYS].join(", ")}`,
      ),
    );
  });
});

describe("the local stack's settings", () => {
  it("reads every one of them", () => {
    expect(
      local({
        localPostgresImage: "postgres:18",
        localNetworkMode: "host",
        localKeepDataOnDestroy: "false",
        localPort: "18000",
        localPostgresPort: "15432",
        appVersion: "abc1234",
      }),
    ).toEqual({
      project: "newsletter",
      stack: "local",
      appVersion: "abc1234",
      appSettings: { env: {}, secrets: {} },
      target: "local",
      postgresImage: "postgres:18",
      networkMode: "host",
      keepDataOnDestroy: false,
      port: 18_000,
      postgresPort: 15_432,
      postgresPassword: "pw",
    });
  });

  it.each([
    ["localPostgresImage", "postgres 17", "an image reference such as postgres:17"],
    ["localPostgresImage", "", "an image reference such as postgres:17"],
    ["localPostgresImage", " postgres:17", "an image reference such as postgres:17"],
    ["localPostgresImage", "postgres:17\n", "an image reference such as postgres:17"],
    ["localNetworkMode", "none", "one of bridge, host"],
    ["localKeepDataOnDestroy", "yes", "true or false"],
  ])("refuses %s %j", (key, value, expected) => {
    expect(errorOf(() => local({ [key]: value }))).toBe(
      invalid("local", `newsletter:${key}: ${JSON.stringify(value)} is not accepted; expected ${expected}`),
    );
  });

  it("asks for the Postgres password with the whole command to set it", () => {
    expect(errorOf(() => parse("local"))).toBe(
      invalid(
        "local",
        "newsletter:localPostgresPassword is empty; `npm run up:local` stores a generated one, or run " +
          "`pulumi config set --secret localPostgresPassword <password> --stack local`",
      ),
    );
  });
});
