// The local stack's containers in full (infra/local-spec.ts): Postgres, the migration and the app, in bridge and in
// host network mode, and the image they run. Exact values, so that a changed port, flag, probe or grace period fails.
import { describe, expect, it } from "vitest";
import { imageBuildSettings } from "../../infra/image";
import {
  dockerEnv,
  LOCAL_DATABASE,
  type LocalSettings,
  localDatabaseConnection,
  localDeploymentSpec,
  localNames,
  nativePlatform,
} from "../../infra/local-spec";

const bridge: LocalSettings = {
  project: "newsletter",
  stack: "local",
  networkMode: "bridge",
  port: 8080,
  postgresImage: "postgres:17",
  postgresPort: 15432,
  appVersion: "abc1234",
  arch: "arm64",
};
const host: LocalSettings = { ...bridge, networkMode: "host", port: 18000, postgresPort: 15432 };

const postgresEnv = [
  { name: "POSTGRES_USER", value: "newsletter", secret: false },
  { name: "POSTGRES_PASSWORD", value: "pw", secret: true },
  { name: "POSTGRES_DB", value: "newsletter", secret: false },
  { name: "PGDATA", value: "/var/lib/postgresql/data", secret: false },
];

describe("the Postgres container", () => {
  it("listens on the network on 5432 in bridge mode, on a named volume, with a TCP readiness check", () => {
    expect(localDeploymentSpec(bridge, "pw").postgres).toEqual({
      name: "newsletter-local-postgres",
      env: postgresEnv,
      command: ["postgres", "-c", "listen_addresses=*", "-c", "port=5432"],
      healthcheck: {
        test: ["CMD", "pg_isready", "--host=127.0.0.1", "--port=5432", "--username=newsletter", "--dbname=newsletter"],
        interval: "2s",
        timeout: "5s",
        retries: 30,
        startPeriod: "5s",
      },
      restart: "unless-stopped",
      ports: [],
      volumes: [{ volumeName: "newsletter-local-pgdata", containerPath: "/var/lib/postgresql/data" }],
      runToCompletion: false,
      stopGraceSeconds: 30,
    });
  });

  it("listens on loopback only, on the configured port, in host mode", () => {
    const { postgres } = localDeploymentSpec(host, "pw");
    expect(postgres.command).toEqual(["postgres", "-c", "listen_addresses=127.0.0.1", "-c", "port=15432"]);
    expect(postgres.healthcheck?.test).toContain("--port=15432");
  });
});

describe("the app container", () => {
  it("publishes the service port on the host's loopback in bridge mode, and drains on stop", () => {
    const spec = localDeploymentSpec(bridge, "pw");
    expect(spec.app).toEqual({
      name: "newsletter-local-app",
      env: [
        { name: "APP_ENVIRONMENT", value: "production", secret: false },
        { name: "APP_DATABASE__HOST", value: "newsletter-local-postgres", secret: false },
        { name: "APP_DATABASE__PORT", value: "5432", secret: false },
        { name: "APP_DATABASE__USERNAME", value: "newsletter", secret: false },
        { name: "APP_DATABASE__PASSWORD", value: "pw", secret: true },
        { name: "APP_DATABASE__DATABASE_NAME", value: "newsletter", secret: false },
        { name: "APP_DATABASE__REQUIRE_SSL", value: "false", secret: false },
        { name: "APP_APPLICATION__VERSION", value: "abc1234", secret: false },
      ],
      healthcheck: {
        test: [
          "CMD",
          "/nodejs/bin/node",
          "-e",
          'fetch("http://127.0.0.1:8000/health_check").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))',
        ],
        interval: "5s",
        timeout: "3s",
        retries: 3,
        startPeriod: "10s",
      },
      restart: "on-failure",
      ports: [{ internal: 8000, external: 8080, ip: "127.0.0.1" }],
      volumes: [],
      runToCompletion: false,
      stopGraceSeconds: 10,
    });
    expect(spec.url).toBe("http://127.0.0.1:8080");
    expect(spec.network).toBe("newsletter-local-net");
    expect(spec).not.toHaveProperty("image.buildNetwork");
  });

  it("binds the configured port itself in host mode, and publishes nothing", () => {
    const spec = localDeploymentSpec(host, "pw");
    expect(spec.app.ports).toEqual([]);
    expect(spec).not.toHaveProperty("network");
    expect(dockerEnv(spec.app.env as { name: string; value: string; secret: boolean }[]).slice(-4)).toEqual([
      "APP_DATABASE__REQUIRE_SSL=false",
      "APP_APPLICATION__HOST=127.0.0.1",
      "APP_APPLICATION__PORT=18000",
      "APP_APPLICATION__VERSION=abc1234",
    ]);
    expect(spec.app.env.slice(-4)).toEqual([
      { name: "APP_DATABASE__REQUIRE_SSL", value: "false", secret: false },
      { name: "APP_APPLICATION__HOST", value: "127.0.0.1", secret: false },
      { name: "APP_APPLICATION__PORT", value: "18000", secret: false },
      { name: "APP_APPLICATION__VERSION", value: "abc1234", secret: false },
    ]);
    expect(spec.migrate.env).toEqual(spec.app.env);
  });

  it("lets the app and Postgres use neighbouring ports in host mode, and any ports in bridge mode", () => {
    expect(() => localDeploymentSpec({ ...host, port: 15433 }, "pw")).not.toThrow();
    expect(() => localDeploymentSpec({ ...bridge, port: 15432 }, "pw")).not.toThrow();
  });
});

describe("the image", () => {
  it("is built for the engine's own platform and tagged by the hash of its inputs", () => {
    const build = imageBuildSettings({ platform: "linux/arm64", buildArgs: { BUILD_IMAGE: "mirror/node:24" } });
    expect(localDeploymentSpec({ ...bridge, buildArgs: { BUILD_IMAGE: "mirror/node:24" } }, "pw").image).toEqual({
      imageName: `newsletter-local-app:${build.version}`,
      build,
    });
    expect(localDeploymentSpec(host, "pw").image.buildNetwork).toBe("host");
  });

  it("names the architecture it cannot build for, and the ones it can", () => {
    expect(() => nativePlatform("ia32")).toThrow(
      new Error('local stack: no Docker platform for the CPU architecture "ia32" (known: x64, arm64)'),
    );
    expect(() => localDeploymentSpec({ ...bridge, arch: "ppc64" }, "pw")).toThrow(
      new Error('local stack: no Docker platform for the CPU architecture "ppc64" (known: x64, arm64)'),
    );
  });
});

describe("names and the connection", () => {
  it("cuts every Docker name to 63 characters with a hash, and freezes them", () => {
    const names = localNames("newsletter", `local-${"x".repeat(80)}`);
    expect(Object.values(names).map((name) => name.length)).toEqual([63, 63, 63, 63, 63, 63]);
    expect(Object.isFrozen(names)).toBe(true);
    expect(Object.isFrozen(LOCAL_DATABASE)).toBe(true);
  });

  it("reaches Postgres by container name in bridge mode and on loopback in host mode", () => {
    const names = localNames("newsletter", "local");
    expect(localDatabaseConnection(bridge, names, "pw")).toEqual({
      host: "newsletter-local-postgres",
      port: "5432",
      username: "newsletter",
      password: "pw",
      databaseName: "newsletter",
    });
    expect(localDatabaseConnection(host, names, "pw")).toEqual({
      host: "127.0.0.1",
      port: "15432",
      username: "newsletter",
      password: "pw",
      databaseName: "newsletter",
    });
  });

  it("writes Docker's KEY=VALUE form, secrets included", () => {
    expect(dockerEnv([{ name: "A", value: "b=c", secret: true }])).toEqual(["A=b=c"]);
  });
});
