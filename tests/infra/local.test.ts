// The `local` stack's component under Pulumi mocks: what `pulumi up --stack local` asks Docker to create, in which
// order, with which environment, and that the Postgres password stays a secret.
import { describe, expect, it } from "vitest";
import { envContract } from "../../infra/env";
import { HEALTH_CHECK_PATH, imageBuildSettings, MIGRATE_ARGV, SERVICE_PORT } from "../../infra/image";
import type { LocalDeployment, LocalDeploymentArgs } from "../../infra/local";
import { nativePlatform } from "../../infra/local-spec";
import {
  isSecretValue,
  type MockRun,
  mockImageId,
  promiseOf,
  resourceNamed,
  reveal,
  runUnderMocks,
} from "./local-harness";

const CONTAINER = "docker:index/container:Container";
const PASSWORD = "mock-postgres-password-5b1f0c";
const VERSION = "3f2c9d1e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

const defaults: LocalDeploymentArgs = {
  networkMode: "bridge",
  port: 8000,
  postgresImage: "postgres:17",
  keepDataOnDestroy: true,
  postgresPassword: PASSWORD,
  appVersion: VERSION,
};

async function deploy(
  overrides: Partial<LocalDeploymentArgs> = {},
  stateOverrides?: Record<string, Record<string, unknown>>,
): Promise<MockRun<LocalDeployment>> {
  return runUnderMocks({ stack: "local", stateOverrides }, async () => {
    const { LocalDeployment } = await import("../../infra/local");
    const local = new LocalDeployment("local", { ...defaults, ...overrides });
    await promiseOf(local.appContainerName).catch(() => undefined);
    return local;
  });
}

/** A container's `KEY=VALUE` environment as a map (secrets revealed). */
function envOf(run: MockRun<unknown>, name: string): Record<string, string> {
  const envs = reveal<string[]>(resourceNamed(run, CONTAINER, name).inputs.envs);
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

describe("LocalDeployment (the local stack) under Pulumi mocks", () => {
  it("creates the image, a network, a volume, the Postgres image and three containers, and nothing else", async () => {
    const run = await deploy();
    expect(run.resources.map((r) => [r.type, r.name]).sort()).toEqual(
      [
        ["newsletter:infra:LocalDeployment", "local"],
        ["docker:index/image:Image", "local-image"],
        ["docker:index/network:Network", "local-network"],
        ["docker:index/volume:Volume", "local-pgdata"],
        ["docker:index/remoteImage:RemoteImage", "local-postgres-image"],
        [CONTAINER, "local-postgres"],
        [CONTAINER, "local-migrate"],
        [CONTAINER, "local-app"],
      ].sort(),
    );
    const physical = run.resources.filter((r) => r.custom).map((r) => [r.name, r.inputs.name ?? r.inputs.imageName]);
    expect(Object.fromEntries(physical)).toEqual({
      "local-image": "newsletter-local-app:latest",
      "local-network": "newsletter-local-net",
      "local-pgdata": "newsletter-local-pgdata",
      "local-postgres-image": "postgres:17",
      "local-postgres": "newsletter-local-postgres",
      "local-migrate": "newsletter-local-migrate",
      "local-app": "newsletter-local-app",
    });
  });

  it("builds the image from the repository's Dockerfile and target and keeps it local: no push, no registry", async () => {
    const run = await deploy({ buildArgs: { BUILD_IMAGE: "mirror/node:24" } });
    const image = resourceNamed(run, "docker:index/image:Image", "local-image");
    const settings = imageBuildSettings({
      appVersion: VERSION,
      platform: nativePlatform(process.arch),
      buildArgs: { BUILD_IMAGE: "mirror/node:24" },
    });
    expect(image.inputs).toEqual({
      imageName: "newsletter-local-app:latest",
      skipPush: true,
      // @pulumi/docker's own default, recorded: a preview does not build.
      buildOnPreview: false,
      build: {
        context: settings.context,
        dockerfile: settings.dockerfile,
        target: "runtime",
        platform: settings.platform,
        args: { BUILD_IMAGE: "mirror/node:24", APP_VERSION: VERSION },
        builderVersion: "BuilderBuildKit",
      },
    });
    expect(run.resources.filter((r) => /registry|digitalocean/i.test(r.type))).toEqual([]);
    // The migration and the app run the built image by its ID, never by a tag someone could move.
    expect(resourceNamed(run, CONTAINER, "local-migrate").inputs.image).toBe(mockImageId("local-image"));
  });

  it("starts Postgres after its volume and network, then the migrations, then the app", async () => {
    const run = await deploy();
    const urn = (type: string, name: string) => resourceNamed(run, type, name).urn;
    const volume = urn("docker:index/volume:Volume", "local-pgdata");
    const network = urn("docker:index/network:Network", "local-network");
    const postgres = urn(CONTAINER, "local-postgres");
    const migrate = urn(CONTAINER, "local-migrate");
    expect(resourceNamed(run, CONTAINER, "local-postgres").dependencies).toEqual(
      expect.arrayContaining([volume, network]),
    );
    expect(resourceNamed(run, CONTAINER, "local-migrate").dependencies).toContain(postgres);
    expect(resourceNamed(run, CONTAINER, "local-app").dependencies).toContain(migrate);
    expect(resourceNamed(run, CONTAINER, "local-app").dependencies).not.toContain(postgres);
  });

  it("runs the migrations to completion with App Platform's migrate argv, and starts the app only after exit 0", async () => {
    const run = await deploy();
    const migrate = resourceNamed(run, CONTAINER, "local-migrate").inputs;
    expect(migrate).toMatchObject({ attach: true, mustRun: false, entrypoints: [...MIGRATE_ARGV], restart: "no" });
    expect(migrate.command).toBeUndefined();

    // The app's image is the built one only because the migration exited 0 ...
    expect(resourceNamed(run, CONTAINER, "local-app").inputs.image).toBe(mockImageId("local-image"));

    // ... and on any other exit code there is no image to start it from: `pulumi up` stops with this message.
    // (Checked on the gate itself: under mocks, a failed input makes the whole program reject unhandled.)
    const failed = await runUnderMocks({ stack: "local", stateOverrides: { migrate: { exitCode: 3 } } }, async () => {
      const pulumi = await import("@pulumi/pulumi");
      const docker = await import("@pulumi/docker");
      const { afterSuccessfulMigration } = await import("../../infra/local");
      const migrate = new docker.Container("migrate", { name: "newsletter-local-migrate", image: "x", attach: true });
      // Observed at once, inside the program: a rejection nobody handles yet would be reported as unhandled.
      return { outcome: promiseOf(afterSuccessfulMigration(migrate, pulumi.output("sha256:built"))).catch((e) => e) };
    });
    const outcome = await failed.result.outcome;
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(
      /^The migrations failed: container newsletter-local-migrate exited with code 3\. See `docker logs newsletter-local-migrate`, fix the cause, then run them again with `pulumi up --stack local --replace 'urn:pulumi:local::newsletter::docker:index\/container:Container::migrate'`/,
    );
  });

  it("gives the app and the migrations the env contract App Platform gets, with local values", async () => {
    const run = await deploy();
    const connection = {
      host: "newsletter-local-postgres",
      port: "5432",
      username: "newsletter",
      password: PASSWORD,
      databaseName: "newsletter",
    };
    const contract = envContract({ environment: "production", service: connection, migrate: connection });
    const expected = (vars: typeof contract.service) => ({
      ...Object.fromEntries(vars.map((v) => [v.name, v.value])),
      // The one local difference in bridge mode: a Postgres container serves no TLS (production.yaml requires it).
      APP_DATABASE__REQUIRE_SSL: "false",
    });
    expect(envOf(run, "local-app")).toEqual(expected(contract.service));
    expect(envOf(run, "local-migrate")).toEqual(expected(contract.migrate));
    expect(envOf(run, "local-postgres")).toEqual({
      POSTGRES_USER: "newsletter",
      POSTGRES_PASSWORD: PASSWORD,
      POSTGRES_DB: "newsletter",
      PGDATA: "/var/lib/postgresql/data",
    });
  });

  it("keeps the password a secret: every environment that carries it is secret, and no output shows it", async () => {
    const run = await deploy();
    for (const name of ["local-postgres", "local-migrate", "local-app"]) {
      expect(isSecretValue(resourceNamed(run, CONTAINER, name).inputs.envs), name).toBe(true);
    }
    const plain = run.resources.filter((r) => !r.type.endsWith("Container") || !isSecretValue(r.inputs.envs));
    expect(JSON.stringify(plain.map((r) => r.inputs))).not.toContain(PASSWORD);
    const local = run.result;
    const outputs = await Promise.all(
      [
        local.url,
        local.postgresContainerName,
        local.migrateContainerName,
        local.appContainerName,
        local.volumeName,
      ].map((o) => promiseOf(o)),
    );
    expect(outputs).toEqual([
      "http://127.0.0.1:8000",
      "newsletter-local-postgres",
      "newsletter-local-migrate",
      "newsletter-local-app",
      "newsletter-local-pgdata",
    ]);
  });

  it("keeps the data volume when the stack is destroyed, unless told not to", async () => {
    const keep = await deploy();
    expect(resourceNamed(keep, "docker:index/volume:Volume", "local-pgdata").retainOnDelete).toBe(true);
    const drop = await deploy({ keepDataOnDestroy: false });
    expect(resourceNamed(drop, "docker:index/volume:Volume", "local-pgdata").retainOnDelete).toBe(false);
    // Only the volume holds data: everything else goes with the stack.
    expect(keep.resources.filter((r) => r.retainOnDelete).map((r) => r.name)).toEqual(["local-pgdata"]);
  });

  it("mounts the volume at PGDATA and waits for Postgres to accept TCP connections before going on", async () => {
    const run = await deploy();
    const postgres = resourceNamed(run, CONTAINER, "local-postgres").inputs;
    expect(postgres).toMatchObject({
      image: mockImageId("local-postgres-image"),
      volumes: [{ volumeName: "newsletter-local-pgdata", containerPath: "/var/lib/postgresql/data" }],
      command: ["postgres", "-c", "listen_addresses=*", "-c", "port=5432"],
      networkMode: "newsletter-local-net",
      ports: [],
      restart: "unless-stopped",
      wait: true,
    });
    expect(postgres.healthcheck).toMatchObject({
      tests: ["CMD", "pg_isready", "--host=127.0.0.1", "--port=5432", "--username=newsletter", "--dbname=newsletter"],
    });
  });

  it("publishes the app on 127.0.0.1 only, restarts it on failure, and checks its health with node, not a shell", async () => {
    const run = await deploy({ port: 8123 });
    const app = resourceNamed(run, CONTAINER, "local-app").inputs;
    expect(app).toMatchObject({
      ports: [{ internal: SERVICE_PORT, external: 8123, ip: "127.0.0.1" }],
      restart: "on-failure",
      networkMode: "newsletter-local-net",
      wait: true,
    });
    const test = (app.healthcheck as { tests: string[] }).tests;
    expect(test.slice(0, 3)).toEqual(["CMD", MIGRATE_ARGV[0], "-e"]);
    expect(test[3]).toContain(`"http://127.0.0.1:${SERVICE_PORT}${HEALTH_CHECK_PATH}"`);
    expect(await promiseOf(run.result.url)).toBe("http://127.0.0.1:8123");
  });

  it("replaces a container by removing the old one first, since Docker names are unique", async () => {
    const run = await deploy();
    const containers = run.resources.filter((r) => r.type === CONTAINER);
    expect(containers.map((r) => [r.name, r.deleteBeforeReplace])).toEqual(containers.map((r) => [r.name, true]));
  });

  describe("in host network mode (engines that allow no bridge)", () => {
    it("creates no network, binds Postgres and the app to loopback on their ports, and builds on the host network", async () => {
      const run = await deploy({ networkMode: "host", port: 18080, postgresPort: 15432 });
      expect(run.resources.map((r) => r.type)).not.toContain("docker:index/network:Network");
      const containers = run.resources.filter((r) => r.type === CONTAINER);
      expect(containers.map((r) => r.inputs.networkMode)).toEqual(["host", "host", "host"]);
      expect(resourceNamed(run, CONTAINER, "local-postgres").inputs.command).toEqual([
        "postgres",
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "port=15432",
      ]);
      expect(envOf(run, "local-app")).toMatchObject({
        APP_DATABASE__HOST: "127.0.0.1",
        APP_DATABASE__PORT: "15432",
        APP_APPLICATION__HOST: "127.0.0.1",
        APP_APPLICATION__PORT: "18080",
      });
      expect(resourceNamed(run, CONTAINER, "local-app").inputs.ports).toEqual([]);
      const image = resourceNamed(run, "docker:index/image:Image", "local-image").inputs;
      expect((image.build as Record<string, unknown>).network).toBe("host");
    });

    it("refuses an app port equal to the Postgres port, naming both keys", async () => {
      await expect(
        runUnderMocks({ stack: "local" }, async () => {
          const { LocalDeployment } = await import("../../infra/local");
          return new LocalDeployment("local", { ...defaults, networkMode: "host", port: 5432, postgresPort: 5432 });
        }),
      ).rejects.toThrow(/localPort and localPostgresPort must differ \(both are 5432\)/);
    });
  });
});
