// The pure description of the local stack (infra/local-spec.ts): names, environment and container specs.
import { describe, expect, it } from "vitest";
import { MIGRATE_ARGV } from "../../infra/image";
import {
  dockerEnv,
  type LocalSettings,
  localAppEnv,
  localDeploymentSpec,
  localNames,
  nativePlatform,
} from "../../infra/local-spec";

const settings: LocalSettings = {
  project: "newsletter",
  stack: "local",
  networkMode: "bridge",
  port: 8000,
  postgresImage: "postgres:17",
  postgresPort: 5432,
  appVersion: "abc123",
  arch: "x64",
};

describe("localNames", () => {
  it("prefixes every Docker name with project and stack", () => {
    expect(localNames("newsletter", "local")).toEqual({
      network: "newsletter-local-net",
      volume: "newsletter-local-pgdata",
      imageRepository: "newsletter-local-app",
      postgres: "newsletter-local-postgres",
      migrate: "newsletter-local-migrate",
      app: "newsletter-local-app",
    });
  });

  it("keeps a container name to one DNS label (63 characters), since other containers resolve it", () => {
    const names = localNames("newsletter", `local-${"x".repeat(80)}`);
    for (const name of Object.values(names)) expect(name.length).toBeLessThanOrEqual(63);
    expect(new Set(Object.values(names)).size).toBe(5); // app and imageRepository share a name on purpose
  });
});

describe("nativePlatform", () => {
  it.each([
    ["x64", "linux/amd64"],
    ["arm64", "linux/arm64"],
  ])("builds for %s as %s, so the image does not run emulated", (arch, platform) => {
    expect(nativePlatform(arch)).toBe(platform);
  });

  it("names the architecture it has no platform for", () => {
    expect(() => nativePlatform("s390x")).toThrow(
      new Error('local stack: no Docker platform for the CPU architecture "s390x" (known: x64, arm64)'),
    );
  });
});

describe("localAppEnv", () => {
  it("is the App Platform contract with literal values, plus REQUIRE_SSL=false, in bridge mode", () => {
    const env = localAppEnv(settings, localNames("newsletter", "local"), "pw");
    const expected = [
      { name: "APP_ENVIRONMENT", value: "production", secret: false },
      { name: "APP_DATABASE__HOST", value: "newsletter-local-postgres", secret: false },
      { name: "APP_DATABASE__PORT", value: "5432", secret: false },
      { name: "APP_DATABASE__USERNAME", value: "newsletter", secret: false },
      { name: "APP_DATABASE__PASSWORD", value: "pw", secret: true },
      { name: "APP_DATABASE__DATABASE_NAME", value: "newsletter", secret: false },
      { name: "APP_DATABASE__REQUIRE_SSL", value: "false", secret: false },
    ];
    expect(env).toEqual({ service: expected, migrate: expected });
  });

  it("points at loopback and binds the app to 127.0.0.1:<port> in host mode", () => {
    const host = { ...settings, networkMode: "host" as const, port: 18000, postgresPort: 15432 };
    const env = localAppEnv(host, localNames("newsletter", "local"), "pw");
    expect(dockerEnv(env.service)).toEqual([
      "APP_ENVIRONMENT=production",
      "APP_DATABASE__HOST=127.0.0.1",
      "APP_DATABASE__PORT=15432",
      "APP_DATABASE__USERNAME=newsletter",
      "APP_DATABASE__PASSWORD=pw",
      "APP_DATABASE__DATABASE_NAME=newsletter",
      "APP_DATABASE__REQUIRE_SSL=false",
      "APP_APPLICATION__HOST=127.0.0.1",
      "APP_APPLICATION__PORT=18000",
    ]);
  });
});

describe("localDeploymentSpec", () => {
  it("runs the migration from the image with App Platform's argv in place of the entrypoint, once", () => {
    const spec = localDeploymentSpec(settings, "pw");
    expect(spec.migrate).toEqual({
      name: "newsletter-local-migrate",
      env: [
        ...localAppEnv(settings, spec.names, "pw").migrate,
        { name: "APP_APPLICATION__VERSION", value: settings.appVersion, secret: false },
      ],
      entrypoint: [...MIGRATE_ARGV],
      restart: "no",
      ports: [],
      volumes: [],
      runToCompletion: true,
      stopGraceSeconds: 0,
    });
  });

  it("probes the app's health with the runtime's node binary on the port it listens on", () => {
    const bridge = localDeploymentSpec(settings, "pw").app.healthcheck;
    const host = localDeploymentSpec({ ...settings, networkMode: "host", port: 18000 }, "pw").app.healthcheck;
    expect(bridge?.test).toEqual([
      "CMD",
      "/nodejs/bin/node",
      "-e",
      'fetch("http://127.0.0.1:8000/health_check").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))',
    ]);
    expect(host?.test[3]).toBe(
      'fetch("http://127.0.0.1:18000/health_check").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))',
    );
  });

  it("has a network and publishes the app in bridge mode, and neither in host mode", () => {
    const bridge = localDeploymentSpec(settings, "pw");
    const host = localDeploymentSpec({ ...settings, networkMode: "host", port: 18000 }, "pw");
    expect([bridge.network, bridge.app.ports]).toEqual([
      "newsletter-local-net",
      [{ internal: 8000, external: 8000, ip: "127.0.0.1" }],
    ]);
    expect([host.network, host.app.ports, host.image.buildNetwork]).toEqual([undefined, [], "host"]);
    expect([bridge.url, host.url]).toEqual(["http://127.0.0.1:8000", "http://127.0.0.1:18000"]);
  });

  it("refuses the same loopback port for the app and Postgres in host mode, naming both keys", () => {
    expect(() => localDeploymentSpec({ ...settings, networkMode: "host", port: 5432 }, "pw")).toThrow(
      new Error(
        'local stack "local": in host network mode the app and Postgres both bind 127.0.0.1, so localPort and ' +
          "localPostgresPort must differ (both are 5432); change one in Pulumi.local.yaml",
      ),
    );
  });
});
