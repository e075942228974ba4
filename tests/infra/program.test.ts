// biome-ignore-all lint/suspicious/noTemplateCurlyInString: App Platform bindable variables are literal "${...}" strings.
import { describe, expect, it } from "vitest";
import { imageBuildSettings } from "../../infra/image";
import {
  appPlatformReadBack,
  cliConfig,
  lastRunResources,
  type ProgramRun,
  type RecordedResource,
  runProgram,
} from "./support/pulumi-program";

const APP_VERSION = "0123456789ab";
/** The hash of this checkout's image inputs: the second half of every tag, and the version the app reports. */
const IMAGE_VERSION = imageBuildSettings().version;

/**
 * Values read from Pulumi.yaml (and the stack file), as the CLI would pass them: renaming the registry or the
 * repository there, as the README tells a new user to, changes what is expected here instead of breaking the test.
 */
const configured = (stack: string, key: string): string => cliConfig(stack)[`newsletter:${key}`] ?? "";
const REGISTRY = configured("production", "registryName");
const REPOSITORY = configured("production", "imageRepository");

function byType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

function only(run: ProgramRun, type: string): RecordedResource {
  const found = byType(run, type);
  expect(found, type).toHaveLength(1);
  return found[0] as RecordedResource;
}

interface SpecShape {
  name: string;
  region: string;
  services: { image: { registryType: string; repository: string; digest?: string; tag?: string } }[];
  jobs: { image: { digest?: string }; kind: string }[];
  databases: Record<string, unknown>[];
}

describe("the Pulumi program for the production stack (Pulumi.production.yaml)", () => {
  const run = () => runProgram("production", { ...cliConfig("production"), "newsletter:appVersion": APP_VERSION });

  it("creates exactly the registry lookup, push credentials, image, cluster, database, user, app and firewall", async () => {
    const result = await run();
    const types = result.resources.map((r) => `${r.type} ${r.name}`).sort();
    expect(types).toEqual(
      [
        "digitalocean:index/app:App app-app",
        "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials image-push-credentials",
        "pulumi:providers:docker image-registry",
        "digitalocean:index/databaseCluster:DatabaseCluster database-cluster",
        "digitalocean:index/databaseDb:DatabaseDb database-database",
        "digitalocean:index/databaseFirewall:DatabaseFirewall trusted-sources-firewall",
        "digitalocean:index/databaseUser:DatabaseUser database-app-user",
        "digitalocean:index/project:Project project-project",
        "docker:index/image:Image image-image",
        "newsletter:infra:AppPlatformApp app",
        "newsletter:infra:ContainerImage image",
        "newsletter:infra:Database database",
        "newsletter:infra:DatabaseTrustedSources trusted-sources",
        "newsletter:infra:Registry registry",
        "newsletter:infra:StackProject project",
      ].sort(),
    );
    // The registry has no image with this checkout's tag yet, so the lookup misses and docker.Image builds it.
    expect(result.calls).toEqual([
      { token: "digitalocean:index/getContainerRegistry:getContainerRegistry", inputs: { name: REGISTRY } },
      {
        token: "docker:index/getRegistryImage:getRegistryImage",
        inputs: { name: `registry.digitalocean.com/${REGISTRY}/${REPOSITORY}:production-${IMAGE_VERSION}` },
        provider: "image-registry",
      },
    ]);
  });

  it("creates the app and the cluster in the stack's own DigitalOcean project, marked with project and stack", async () => {
    const result = await run();
    expect(only(result, "digitalocean:index/project:Project").inputs).toEqual({
      name: "newsletter-production",
      description: "pulumi:newsletter:production (managed by Pulumi; deleted with its stack)",
      purpose: "Web Application",
      environment: "Production",
    });
    const app = only(result, "digitalocean:index/app:App");
    const cluster = only(result, "digitalocean:index/databaseCluster:DatabaseCluster");
    expect(app.inputs.projectId).toBe("project-project-id");
    expect(cluster.inputs.projectId).toBe("project-project-id");
    // project_id is ForceNew in the provider: an app or cluster from before keeps its project, never replaced.
    expect([app.ignoreChanges, cluster.ignoreChanges]).toEqual([["projectId"], ["projectId"]]);
  });

  it("references the registry by name and never creates one", async () => {
    const result = await run();
    expect(byType(result, "digitalocean:index/containerRegistry:ContainerRegistry")).toEqual([]);
  });

  it("creates the cluster from the stack's settings, protected, with a database and a dedicated user", async () => {
    const result = await run();
    const cluster = only(result, "digitalocean:index/databaseCluster:DatabaseCluster");
    expect(cluster.inputs).toEqual({
      name: "newsletter-production-db",
      engine: "pg",
      version: "17",
      size: "db-s-1vcpu-2gb",
      nodeCount: 2,
      region: "fra1",
      projectId: "project-project-id",
      tags: ["pulumi:newsletter:production"],
    });
    expect(cluster.protect).toBe(true);
    const database = only(result, "digitalocean:index/databaseDb:DatabaseDb");
    expect(database.inputs).toEqual({ clusterId: "database-cluster-id", name: "newsletter" });
    expect(database.protect).toBe(true);
    expect(only(result, "digitalocean:index/databaseUser:DatabaseUser").inputs).toEqual({
      clusterId: "database-cluster-id",
      name: "newsletter_app",
    });
  });

  it("builds the runtime target for linux/amd64, tagged by its inputs' hash, and pushes it with short-lived credentials", async () => {
    const result = await run();
    const credentials = only(
      result,
      "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials",
    );
    expect(credentials.inputs).toEqual({ registryName: REGISTRY, write: true, expirySeconds: 3600 });
    // New credentials for every new tag: a push never uses credentials made in an earlier run.
    expect(credentials.replacementTrigger).toBe(`production-${IMAGE_VERSION}`);
    const image = only(result, "docker:index/image:Image");
    expect(image.inputs.imageName).toBe(
      `registry.digitalocean.com/${REGISTRY}/${REPOSITORY}:production-${IMAGE_VERSION}`,
    );
    // No commit, no version: the build args are only what decides the image (none on a machine with the official
    // base images); the paths are relative, so another checkout path changes nothing.
    expect(image.inputs.build).toEqual({
      context: ".",
      dockerfile: "Dockerfile",
      target: "runtime",
      platform: "linux/amd64",
      args: {},
      builderVersion: "BuilderBuildKit",
    });
    expect(image.inputs.registry).toEqual({
      server: "registry.digitalocean.com",
      username: "mock-token",
      password: "mock-token",
    });
    expect(image.secretInputs).toEqual(["registry"]);
  });

  it("deploys the pushed image by digest, in the service and in the PRE_DEPLOY job", async () => {
    const result = await run();
    const image = only(result, "docker:index/image:Image");
    const app = only(result, "digitalocean:index/app:App");
    const spec = app.inputs.spec as SpecShape;
    const digest = String(result.outputs.imageDigest);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The mock registry answers each push with a digest of its own; the spec must carry that one, not the tag.
    expect(String(image.inputs.imageName)).toMatch(new RegExp(`:production-${IMAGE_VERSION}$`));
    expect(spec.services[0]?.image).toEqual({ registryType: "DOCR", repository: REPOSITORY, digest });
    expect(spec.jobs[0]?.image).toEqual({ registryType: "DOCR", repository: REPOSITORY, digest });
    expect(spec.services[0]?.image.tag).toBeUndefined();
  });

  it("names the app after project and stack, binds the cluster twice (app user, admin), and waits long enough", async () => {
    const result = await run();
    const app = only(result, "digitalocean:index/app:App");
    const spec = app.inputs.spec as SpecShape;
    expect(spec.name).toBe("newsletter-production");
    expect(spec.region).toBe("fra");
    expect(spec.databases).toEqual([
      {
        name: "db",
        engine: "PG",
        production: true,
        clusterName: "newsletter-production-db",
        dbName: "newsletter",
        dbUser: "newsletter_app",
        version: "17",
      },
      {
        name: "db-admin",
        engine: "PG",
        production: true,
        clusterName: "newsletter-production-db",
        dbName: "newsletter",
        dbUser: "doadmin",
        version: "17",
      },
    ]);
    // Only the timeout digitalocean_app declares: an `update` key is dropped by the bridge with a warning on every
    // update (pulumi-terraform-bridge pkg/tfshim/sdk-v2/provider2.go, configWithTimeouts).
    expect(app.customTimeouts).toEqual({ create: "60m" });
    expect(app.protect).toBe(false);
  });

  it("trusts only the app, with a rule created after the app exists", async () => {
    const result = await run();
    const firewall = only(result, "digitalocean:index/databaseFirewall:DatabaseFirewall");
    expect(firewall.inputs).toEqual({
      clusterId: "database-cluster-id",
      rules: [{ type: "app", value: "app-app-id" }],
    });
    const app = only(result, "digitalocean:index/app:App");
    expect(result.resources.indexOf(firewall)).toBeGreaterThan(result.resources.indexOf(app));
  });

  it("exports the live URL, the app id, the digest, the image repository, the cluster name and the monthly cost", async () => {
    const result = await run();
    expect(result.outputs).toEqual({
      url: "https://newsletter-production-x1y2z.ondigitalocean.app",
      appId: "app-app-id",
      imageDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      imageRepository: `registry.digitalocean.com/${REGISTRY}/${REPOSITORY}`,
      databaseClusterName: "newsletter-production-db",
      // 2 × apps-s-1vcpu-1gb ($12) + 2 nodes × db-s-1vcpu-2gb ($30)
      estimatedMonthlyCostUsd: 84,
      containers: undefined,
    });
  });
});

describe("the Pulumi program for a per-PR stack (pr-42, no stack file)", () => {
  const run = () => runProgram("pr-42", { ...cliConfig("pr-42"), "newsletter:appVersion": APP_VERSION });

  it("creates no database cluster, protects nothing, and names everything with the PR number", async () => {
    const result = await run();
    expect(result.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "digitalocean:index/app:App app-app",
        "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials image-push-credentials",
        "digitalocean:index/project:Project project-project",
        "docker:index/image:Image image-image",
        "newsletter:infra:AppPlatformApp app",
        "newsletter:infra:ContainerImage image",
        "newsletter:infra:Registry registry",
        "newsletter:infra:StackProject project",
        "pulumi:providers:docker image-registry",
      ].sort(),
    );
    expect(result.calls.map((c) => c.token)).toEqual([
      "digitalocean:index/getContainerRegistry:getContainerRegistry",
      "docker:index/getRegistryImage:getRegistryImage",
    ]);
    expect(result.resources.filter((r) => r.protect)).toEqual([]);
    const credentials = only(
      result,
      "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials",
    );
    expect(credentials.inputs).toEqual({ registryName: REGISTRY, write: true, expirySeconds: 3600 });
    expect(only(result, "docker:index/image:Image").inputs.build).toMatchObject({
      target: "runtime",
      platform: "linux/amd64",
      args: {},
    });
    const spec = only(result, "digitalocean:index/app:App").inputs.spec as SpecShape;
    expect(spec.name).toBe("newsletter-pr-42");
    expect(String(only(result, "docker:index/image:Image").inputs.imageName)).toBe(
      `registry.digitalocean.com/${REGISTRY}/${REPOSITORY}:pr-42-${IMAGE_VERSION}`,
    );
  });

  it("creates the app in the PR stack's own DigitalOcean project, marked for the reaper", async () => {
    const result = await run();
    expect(only(result, "digitalocean:index/project:Project").inputs).toMatchObject({
      name: "newsletter-pr-42",
      description: "pulumi:newsletter:pr-42 (managed by Pulumi; deleted with its stack)",
      environment: "Development",
    });
    expect(only(result, "digitalocean:index/app:App").inputs.projectId).toBe("project-project-id");
  });

  it("runs the smallest instance once, with a dev database, no domain and the image by digest", async () => {
    const result = await run();
    const spec = only(result, "digitalocean:index/app:App").inputs.spec as SpecShape & {
      services: { instanceSizeSlug: string; instanceCount: number }[];
      domainNames?: unknown;
    };
    expect(spec.services[0]?.instanceSizeSlug).toBe("apps-s-1vcpu-0.5gb");
    expect(spec.services[0]?.instanceCount).toBe(1);
    expect(spec.databases).toEqual([{ name: "db", engine: "PG", production: false, version: "17" }]);
    expect(spec.domainNames).toBeUndefined();
    expect(result.outputs.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(spec.services[0]?.image.digest).toBe(result.outputs.imageDigest);
  });

  it("exports no cluster name, the repository its pr-42-* tags are pushed to, and the preview's monthly cost", async () => {
    const result = await run();
    expect(result.outputs.databaseClusterName).toBeUndefined();
    expect(result.outputs.imageRepository).toBe(`registry.digitalocean.com/${REGISTRY}/${REPOSITORY}`);
    // apps-s-1vcpu-0.5gb ($5) + dev database ($7)
    expect(result.outputs.estimatedMonthlyCostUsd).toBe(12);
  });
});

describe("the Pulumi program with a wrong setting", () => {
  it("fails before creating any resource, naming the key, the stack and the accepted values", async () => {
    const config = { ...cliConfig("pr-7"), "newsletter:region": "fra1", "newsletter:appVersion": APP_VERSION };
    const registered = await runProgram("pr-7", config).then(
      () => "the program ran",
      (error: unknown) => error,
    );
    expect(String(registered)).toMatch(
      /stack "pr-7".*\n.*newsletter:region: "fra1" is not accepted; it is a database region\. App Platform regions are ams, blr, fra/,
    );
    expect(lastRunResources()).toEqual([]);
  });

  it("with databaseTrustedSources open, creates no firewall, so a replaced app (a new id) can run its first job", async () => {
    const config = {
      ...cliConfig("production"),
      "newsletter:databaseTrustedSources": "open",
      "newsletter:appVersion": APP_VERSION,
    };
    const result = await runProgram("production", config);
    expect(byType(result, "digitalocean:index/databaseFirewall:DatabaseFirewall")).toEqual([]);
    expect(byType(result, "newsletter:infra:DatabaseTrustedSources")).toEqual([]);
    expect(byType(result, "digitalocean:index/app:App")).toHaveLength(1);
  });

  it("with migrationDatabaseAccess admin-secret, attaches the cluster once and hands the job the admin's password as a SECRET, keeping the spec secret in the state", async () => {
    const config = {
      ...cliConfig("production"),
      "newsletter:migrationDatabaseAccess": "admin-secret",
      "newsletter:appVersion": APP_VERSION,
    };
    const result = await runProgram("production", config);
    const app = only(result, "digitalocean:index/app:App");
    const spec = app.inputs.spec as SpecShape & {
      jobs: { envs: { key: string; value: string; type: string }[] }[];
      services: { envs: { key: string; value: string; type: string }[] }[];
    };
    expect(spec.databases.map((d) => [d.name, d.dbUser])).toEqual([["db", "newsletter_app"]]);
    const jobEnv = Object.fromEntries((spec.jobs[0]?.envs ?? []).map((e) => [e.key, [e.value, e.type]]));
    expect(jobEnv).toEqual({
      APP_ENVIRONMENT: ["production", "GENERAL"],
      APP_DATABASE__HOST: ["${db.HOSTNAME}", "GENERAL"],
      APP_DATABASE__PORT: ["${db.PORT}", "GENERAL"],
      APP_DATABASE__USERNAME: ["doadmin", "GENERAL"],
      APP_DATABASE__PASSWORD: ["mock-admin-password", "SECRET"],
      APP_DATABASE__DATABASE_NAME: ["${db.DATABASE}", "GENERAL"],
      APP_DATABASE__CA_CERT: ["${db.CA_CERT}", "GENERAL"],
      APP_DATABASE__SERVICE_USERNAME: ["${db.USERNAME}", "GENERAL"],
      APP_APPLICATION__VERSION: [APP_VERSION, "GENERAL"],
    });
    expect(spec.services[0]?.envs.every((e) => e.type === "GENERAL")).toBe(true);
    expect(app.secretInputs).toEqual(["spec"]);
  });

  it("creates the registry, kept on delete, when createRegistry is set", async () => {
    const config = { ...cliConfig("pr-8"), "newsletter:createRegistry": "true", "newsletter:appVersion": APP_VERSION };
    const result = await runProgram("pr-8", config);
    const registry = only(result, "digitalocean:index/containerRegistry:ContainerRegistry");
    expect(registry.inputs).toEqual({ name: REGISTRY, subscriptionTierSlug: configured("pr-8", "registryTier") });
    expect(registry.retainOnDelete).toBe(true);
    // No registry lookup by name; only the image's tag is looked up, in the registry just created.
    expect(result.calls.map((c) => c.token)).toEqual(["docker:index/getRegistryImage:getRegistryImage"]);
  });
});

describe("the Pulumi program with the stack's appEnv and appSecrets", () => {
  const TOKEN = "pm-token-7f3a9c1e5b";
  const SEALED = "EV[1:c2VhbGVk:Y2lwaGVydGV4dA==]";
  // What the CLI hands the program after `pulumi config set [--secret] --path 'appEnv.…' …`: each map as JSON text.
  const appConfig = {
    "newsletter:appEnv": JSON.stringify({ APP_EMAIL_CLIENT__SENDER_EMAIL: "news@example.org" }),
    "newsletter:appSecrets": JSON.stringify({
      APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN: TOKEN,
      APP_PAYMENTS__API_KEY: SEALED,
    }),
  };
  type Env = { key: string; value: string; type: string; scope: string };
  type Spec = { services: { envs: Env[] }[]; jobs: { envs: Env[] }[] };
  const run = () =>
    runProgram("production", { ...cliConfig("production"), "newsletter:appVersion": APP_VERSION, ...appConfig });

  it("puts both into the service's and the migration job's envs, and sends the spec as a secret", async () => {
    const result = await run();
    const app = only(result, "digitalocean:index/app:App");
    const spec = app.inputs.spec as Spec;
    for (const component of [spec.services[0], spec.jobs[0]]) {
      expect(component?.envs.filter((e) => /^APP_(EMAIL_CLIENT|PAYMENTS)__/.test(e.key))).toEqual([
        { key: "APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN", value: TOKEN, scope: "RUN_TIME", type: "GENERAL" },
        { key: "APP_EMAIL_CLIENT__SENDER_EMAIL", value: "news@example.org", scope: "RUN_TIME", type: "GENERAL" },
        { key: "APP_PAYMENTS__API_KEY", value: SEALED, scope: "RUN_TIME", type: "SECRET" },
      ]);
    }
    expect(app.secretInputs).toEqual(["spec"]);
  });

  it("reads back from App Platform exactly as sent, so the next `up` has nothing to change", async () => {
    const result = await run();
    const spec = only(result, "digitalocean:index/app:App").inputs.spec as Spec;
    // The provider's state after create/update/refresh: App Platform's read-back of the spec (tests/infra/support).
    expect(appPlatformReadBack(spec)).toEqual(spec);
    // The mock is strict: the same token sent as SECRET in plain text would come back as ciphertext, a diff forever.
    const asSecret: Spec = {
      ...spec,
      services: spec.services.map((s) => ({
        ...s,
        envs: s.envs.map((e) => (e.value === TOKEN ? { ...e, type: "SECRET" } : e)),
      })),
    };
    const readBack = appPlatformReadBack(asSecret) as Spec;
    expect(readBack).not.toEqual(asSecret);
    expect(readBack.services[0]?.envs.find((e) => e.key === "APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN")?.value).toMatch(
      /^EV\[1:/,
    );
  });

  it("shows no secret value in plain text in any stack output, nor in any other resource's inputs", async () => {
    const result = await run();
    const exported = JSON.stringify(result.outputs);
    expect(exported).not.toContain(TOKEN);
    expect(exported).not.toContain(SEALED);
    for (const resource of result.resources) {
      if (resource.type === "digitalocean:index/app:App" || resource.type === "newsletter:infra:AppPlatformApp")
        continue;
      expect(JSON.stringify(resource.inputs), resource.name).not.toContain(TOKEN);
    }
  });

  it("gives the local stack the same variables through the same contract, secrets only in secret inputs", async () => {
    const result = await runProgram("local", {
      ...cliConfig("local"),
      "newsletter:appVersion": APP_VERSION,
      "newsletter:localPostgresPassword": "local-pw",
      ...appConfig,
    });
    const containers = byType(result, "docker:index/container:Container");
    const app = containers.find((c) => c.name === "local-app");
    const migrate = containers.find((c) => c.name === "local-migrate");
    for (const container of [app, migrate]) {
      expect(container?.inputs.envs).toEqual(
        expect.arrayContaining([
          `APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN=${TOKEN}`,
          "APP_EMAIL_CLIENT__SENDER_EMAIL=news@example.org",
        ]),
      );
      expect(container?.secretInputs).toContain("envs");
    }
    expect(JSON.stringify(result.outputs)).not.toContain(TOKEN);
  });

  it("fails before creating anything on a name the stack generates, naming the key", async () => {
    const config = {
      ...cliConfig("pr-7"),
      "newsletter:appVersion": APP_VERSION,
      "newsletter:appEnv": JSON.stringify({ APP_DATABASE__PASSWORD: "x" }),
    };
    await expect(runProgram("pr-7", config)).rejects.toThrow(
      "newsletter:appEnv.APP_DATABASE__PASSWORD: the stack sets this variable itself",
    );
    expect(lastRunResources()).toEqual([]);
  });
});
