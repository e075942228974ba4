// `pulumi up --stack local` under Pulumi mocks: the program (infra/index.ts) with the config the CLI would pass, and
// what it asks Docker to create, in which order, with which environment, and that the Postgres password stays secret.
import { describe, expect, it, vi } from "vitest";
import { envContract } from "../../infra/env";
import { HEALTH_CHECK_PATH, imageBuildSettings, MIGRATE_ARGV, SERVICE_PORT } from "../../infra/image";
import { nativePlatform } from "../../infra/local-spec";
import { cliConfig, type ProgramRun, type RecordedResource, runProgram } from "./support/pulumi-program";

const CONTAINER = "docker:index/container:Container";
const PASSWORD = "mock-postgres-password-5b1f0c";
const VERSION = "3f2c9d1e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

/** The local stack as `npm run up:local` runs it: Pulumi.yaml's defaults, the stored password, and `extra`. */
function upLocal(extra: Record<string, string> = {}): Promise<ProgramRun> {
  return runProgram("local", {
    ...cliConfig("local"),
    "newsletter:appVersion": VERSION,
    "newsletter:localPostgresPassword": PASSWORD,
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`newsletter:${k}`, v])),
  });
}

function find(run: ProgramRun, type: string, name: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name}, found ${found.length}`);
  return found[0] as RecordedResource;
}

/** The URN the engine gives a resource (the mocks build it the same way: the parent's type chain, then the name). */
function urnOf(resource: RecordedResource, stack = "local"): string {
  const parentType = resource.parent === "" ? undefined : resource.parent.split("::")[2]?.split("$").pop();
  const type = parentType === undefined ? resource.type : `${parentType}$${resource.type}`;
  return `urn:pulumi:${stack}::newsletter::${type}::${resource.name}`;
}

/** A container's `KEY=VALUE` environment as a map. */
function envOf(run: ProgramRun, name: string): Record<string, string> {
  const envs = find(run, CONTAINER, name).inputs.envs as string[];
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

describe("the local stack (infra/index.ts, stack `local`) under Pulumi mocks", () => {
  it("creates the image, a network, a volume, the Postgres image and three containers, and nothing else", async () => {
    const run = await upLocal();
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
      // Tagged with the hash of the image's inputs: an unchanged tree gives the same name, and builds nothing.
      "local-image": `newsletter-local-app:${imageBuildSettings({ platform: nativePlatform(process.arch) }).version}`,
      "local-network": "newsletter-local-net",
      "local-pgdata": "newsletter-local-pgdata",
      "local-postgres-image": "postgres:17",
      "local-postgres": "newsletter-local-postgres",
      "local-migrate": "newsletter-local-migrate",
      "local-app": "newsletter-local-app",
    });
    const component = find(run, "newsletter:infra:LocalDeployment", "local");
    for (const child of run.resources.filter((r) => r.custom)) expect(child.parent).toBe(urnOf(component));
  });

  it("exports the URL and the container and volume names, and nothing that carries the password", async () => {
    const run = await upLocal({ localPort: "8123" });
    expect(run.outputs.url).toBe("http://127.0.0.1:8123");
    // An exported object's Outputs are resolved by the engine; here, one by one.
    const containers = Object.entries(run.outputs.containers as Record<string, unknown>);
    const resolved = await Promise.all(
      containers.map(async ([key, value]) => [key, await (value as { promise(): Promise<unknown> }).promise()]),
    );
    expect(Object.fromEntries(resolved)).toEqual({
      postgres: "newsletter-local-postgres",
      migrate: "newsletter-local-migrate",
      app: "newsletter-local-app",
      volume: "newsletter-local-pgdata",
    });
    expect(JSON.stringify([run.outputs.url, resolved])).not.toContain(PASSWORD);
  });

  it("builds the image from the repository's Dockerfile and target and keeps it local: no push, no registry", async () => {
    const run = await upLocal();
    const settings = imageBuildSettings({ platform: nativePlatform(process.arch) });
    expect(find(run, "docker:index/image:Image", "local-image").inputs).toEqual({
      imageName: `newsletter-local-app:${settings.version}`,
      skipPush: true,
      // @pulumi/docker's own default, recorded: a preview does not build.
      buildOnPreview: false,
      build: {
        context: settings.context,
        dockerfile: settings.dockerfile,
        target: "runtime",
        platform: settings.platform,
        args: {},
        builderVersion: "BuilderBuildKit",
      },
    });
    expect(run.resources.filter((r) => /registry|digitalocean/i.test(r.type))).toEqual([]);
    expect(run.calls).toEqual([]);
  });

  it("starts Postgres after its volume and network, then the migrations, then the app", async () => {
    const run = await upLocal();
    const urn = (type: string, name: string) => urnOf(find(run, type, name));
    const dependencies = (name: string) => find(run, CONTAINER, name).dependencies;
    expect(dependencies("local-postgres")).toEqual(
      expect.arrayContaining([
        urn("docker:index/volume:Volume", "local-pgdata"),
        urn("docker:index/network:Network", "local-network"),
      ]),
    );
    expect(dependencies("local-migrate")).toContain(urn(CONTAINER, "local-postgres"));
    expect(dependencies("local-app")).toContain(urn(CONTAINER, "local-migrate"));
  });

  it("runs the migrations to completion with App Platform's argv, and gives the app the image once they exit 0", async () => {
    const run = await upLocal();
    const migrate = find(run, CONTAINER, "local-migrate").inputs;
    expect(migrate).toMatchObject({ attach: true, mustRun: false, entrypoints: [...MIGRATE_ARGV], restart: "no" });
    expect(migrate.command).toBeUndefined();
    const built = run.resources.find((r) => r.type === "docker:index/image:Image");
    expect(built).toBeDefined();
    // Both run the image that was built by its ID (docker.Image's repoDigest without a push), never a tag someone
    // could move.
    const image = find(run, CONTAINER, "local-app").inputs.image;
    expect(image).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(migrate.image).toBe(image);
  });

  it("keeps the old app serving while a replaced migration container runs: only an in-place property waits on it", async () => {
    // On a delete-before-replace of the migration container the engine first deletes every dependent whose
    // dependent properties force a replacement (pulumi/pulumi pkg/resource/deploy/step_generator.go,
    // calculateDependentReplacements). The app's image (ForceNew) must not come from the migration container.
    const run = await upLocal();
    const migrateUrn = urnOf(find(run, CONTAINER, "local-migrate"));
    const app = find(run, CONTAINER, "local-app");
    const fromMigration = Object.entries(app.propertyDependencies)
      .filter(([, urns]) => urns.includes(migrateUrn))
      .map(([key]) => key);
    expect(fromMigration).toEqual(["destroyGraceSeconds"]);
    expect(app.inputs.destroyGraceSeconds).toBe(10);
    expect(app.dependencies).toContain(migrateUrn);
  });

  it("gives the app and the migrations the variables of the App Platform spec, with local values", async () => {
    const run = await upLocal();
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
      // The version the app reports: the stack's appVersion here, else the hash of the image's inputs.
      APP_APPLICATION__VERSION: VERSION,
    });
    expect(envOf(run, "local-app")).toEqual(expected(contract.service));
    expect(envOf(run, "local-migrate")).toEqual(expected(contract.migrate));

    // The same names App Platform's service gets in a preview stack, except for what differs on purpose: no CA
    // certificate (no TLS locally), and REQUIRE_SSL turned off.
    const preview = await runProgram("pr-42", { ...cliConfig("pr-42"), "newsletter:appVersion": VERSION });
    const apps = preview.resources.filter((r) => r.type === "digitalocean:index/app:App");
    expect(apps).toHaveLength(1);
    const spec = apps[0]?.inputs.spec as { services: { envs: { key: string }[] }[] };
    const appPlatformNames = (spec.services[0]?.envs ?? []).map((e) => e.key);
    expect(appPlatformNames.filter((n) => n !== "APP_DATABASE__CA_CERT").sort()).toEqual(
      Object.keys(envOf(run, "local-app"))
        .filter((n) => n !== "APP_DATABASE__REQUIRE_SSL")
        .sort(),
    );
  });

  it("keeps the password secret: Postgres, the migrations and the app get it only in secret inputs", async () => {
    const run = await upLocal();
    expect(envOf(run, "local-postgres")).toEqual({
      POSTGRES_USER: "newsletter",
      POSTGRES_PASSWORD: PASSWORD,
      POSTGRES_DB: "newsletter",
      PGDATA: "/var/lib/postgresql/data",
    });
    for (const resource of run.resources) {
      const plain = Object.entries(resource.inputs).filter(([key]) => !resource.secretInputs.includes(key));
      expect(JSON.stringify(plain), `${resource.name}'s plain inputs`).not.toContain(PASSWORD);
    }
    const carriers = run.resources.filter((r) => r.secretInputs.length > 0).map((r) => [r.name, r.secretInputs]);
    expect(carriers).toEqual([
      ["local-postgres", ["envs"]],
      ["local-migrate", ["envs"]],
      ["local-app", ["envs"]],
    ]);
  });

  it("fails before creating anything when no password is stored, and says how to store one", async () => {
    await expect(runProgram("local", { ...cliConfig("local"), "newsletter:appVersion": VERSION })).rejects.toThrow(
      /localPostgresPassword is empty; `npm run up:local` stores a generated one/,
    );
  });

  it("keeps the data volume when the stack is destroyed, unless localKeepDataOnDestroy is false", async () => {
    const keep = await upLocal();
    expect(keep.resources.filter((r) => r.retainOnDelete).map((r) => r.name)).toEqual(["local-pgdata"]);
    const drop = await upLocal({ localKeepDataOnDestroy: "false" });
    expect(drop.resources.filter((r) => r.retainOnDelete)).toEqual([]);
  });

  it("mounts the volume at PGDATA and waits for Postgres to accept TCP connections before going on", async () => {
    const run = await upLocal();
    const postgres = find(run, CONTAINER, "local-postgres").inputs;
    expect(postgres).toMatchObject({
      image: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      volumes: [{ volumeName: "newsletter-local-pgdata", containerPath: "/var/lib/postgresql/data" }],
      command: ["postgres", "-c", "listen_addresses=*", "-c", "port=5432"],
      networkMode: "newsletter-local-net",
      ports: [],
      restart: "unless-stopped",
      wait: true,
    });
    expect((postgres.healthcheck as { tests: string[] }).tests).toEqual([
      "CMD",
      "pg_isready",
      "--host=127.0.0.1",
      "--port=5432",
      "--username=newsletter",
      "--dbname=newsletter",
    ]);
  });

  it("publishes the app on 127.0.0.1 only, restarts it on failure, and checks its health with node, not a shell", async () => {
    const run = await upLocal({ localPort: "8123" });
    const app = find(run, CONTAINER, "local-app").inputs;
    expect(app).toMatchObject({
      ports: [{ internal: SERVICE_PORT, external: 8123, ip: "127.0.0.1" }],
      restart: "on-failure",
      networkMode: "newsletter-local-net",
      wait: true,
    });
    const test = (app.healthcheck as { tests: string[] }).tests;
    expect(test.slice(0, 3)).toEqual(["CMD", MIGRATE_ARGV[0], "-e"]);
    expect(test[3]).toContain(`"http://127.0.0.1:${SERVICE_PORT}${HEALTH_CHECK_PATH}"`);
  });

  it("replaces a container by removing the old one first, since Docker names are unique", async () => {
    const run = await upLocal();
    const containers = run.resources.filter((r) => r.type === CONTAINER);
    expect(containers.map((r) => [r.name, r.deleteBeforeReplace])).toEqual(containers.map((r) => [r.name, true]));
  });

  it("in host network mode creates no network, binds everything to loopback and builds on the host network", async () => {
    const run = await upLocal({ localNetworkMode: "host", localPort: "18080", localPostgresPort: "15432" });
    expect(run.resources.map((r) => r.type)).not.toContain("docker:index/network:Network");
    const containers = run.resources.filter((r) => r.type === CONTAINER);
    expect(containers.map((r) => r.inputs.networkMode)).toEqual(["host", "host", "host"]);
    expect(find(run, CONTAINER, "local-postgres").inputs.command).toEqual([
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
    expect(find(run, CONTAINER, "local-app").inputs.ports).toEqual([]);
    const image = find(run, "docker:index/image:Image", "local-image").inputs;
    expect((image.build as Record<string, unknown>).network).toBe("host");
  });

  it("in host network mode refuses the same loopback port for the app and Postgres, naming both keys", async () => {
    await expect(upLocal({ localNetworkMode: "host", localPort: "5432" })).rejects.toThrow(
      "localPort and localPostgresPort must differ (both are 5432); change one in Pulumi.local.yaml",
    );
  });
});

describe("afterSuccessfulMigration (the gate between the migration container and the app)", () => {
  /** The gate's value for a migration container that exited with `exitCode`, observed at once. */
  async function gate(exitCode: number): Promise<unknown> {
    vi.resetModules();
    const pulumi = await import("@pulumi/pulumi");
    await pulumi.runtime.setMocks(
      {
        newResource: ({ name, inputs }) => ({ id: `${name}-id`, state: { ...inputs, exitCode } }),
        call: ({ inputs }) => inputs,
      },
      "newsletter",
      "local",
      false,
    );
    const docker = await import("@pulumi/docker");
    const { afterSuccessfulMigration } = await import("../../infra/local");
    const migrate = new docker.Container("migrate", { name: "newsletter-local-migrate", image: "x", attach: true });
    const output = afterSuccessfulMigration(migrate, pulumi.output("sha256:built"));
    // Output#promise is what Pulumi's own tests await (`apply` never sees a failure). A failed Output also rejects
    // isKnown and isSecret, which nothing else observes: catch them so the failure surfaces once, here.
    const internals = output as unknown as {
      promise(): Promise<string>;
      isKnown: Promise<boolean>;
      isSecret: Promise<boolean>;
    };
    internals.isKnown.catch(() => undefined);
    internals.isSecret.catch(() => undefined);
    return internals.promise().catch((error: unknown) => error);
  }

  it("passes the image on when the migration exited 0", async () => {
    expect(await gate(0)).toBe("sha256:built");
  });

  it("stops `pulumi up` with the container's name, its exit code and how to rerun it otherwise", async () => {
    const outcome = await gate(3);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toBe(
      "The migrations failed: container newsletter-local-migrate exited with code 3. " +
        "See `docker logs newsletter-local-migrate`, fix the cause, then run them again with " +
        "`pulumi up --stack local --replace 'urn:pulumi:local::newsletter::docker:index/container:Container::migrate'` " +
        "(a new image reruns them by itself).",
    );
  });
});
