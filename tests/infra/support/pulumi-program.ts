// Runs the Pulumi program (infra/index.ts) in-process under `pulumi.runtime.setMocks`, the standard way to unit test
// a Pulumi program (pulumi/examples testing-unit-ts-mocks-jest): no CLI, no cloud. Every resource registration and
// every provider call is recorded, with the resource options the engine would see (protect, retainOnDelete,
// custom timeouts), and the stack's exports are resolved to plain values.
//
// Pulumi keeps its runtime state (mocks, config, stack) in one global store, so each run resets the module registry,
// sets mocks and config first, and only then imports the program.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { asConfigString, readProject } from "../../support/pulumi-standin/project";

export const REPO_ROOT = path.resolve(__dirname, "../../..");
// @pulumi/pulumi is an external (node_modules) dependency: Node loads it once, and its state lives in a global store.
const requireFromHere = createRequire(__filename);
const { deserializeProperties } = requireFromHere("@pulumi/pulumi/runtime/rpc") as {
  deserializeProperties(o: unknown): Record<string, unknown>;
};
const { waitForRPCs } = requireFromHere("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
export const PROJECT = "newsletter";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs with secrets unwrapped to their values. */
  readonly inputs: Record<string, unknown>;
  /** Top-level inputs that were sent as secrets (or contain one). */
  readonly secretInputs: readonly string[];
  readonly custom: boolean;
  readonly parent: string;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly createTimeout: string | undefined;
  /** Every custom timeout the engine receives (create, update, delete), unset ones left out. */
  readonly customTimeouts: Readonly<Record<string, string>>;
  readonly dependencies: readonly string[];
  /** The `replacementTrigger` option: a change to it from the last run replaces the resource. */
  readonly replacementTrigger: unknown;
  /** Per input property, the URNs its value came from: what the engine's dependent-replacement check reads. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface RecordedCall {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
  /** The explicit provider's logical name, when the invoke named one (`{ provider }`). */
  readonly provider?: string;
}

/**
 * The registry the mocked docker provider pushes to and looks tags up in. `lookUp` answers the manifest's digest, or
 * undefined for a tag the registry lacks (HTTP 404); `push` builds and pushes an image from docker.Image's inputs and
 * answers its manifest digest.
 */
export interface MockRegistry {
  /** The host images are pushed to: `registry.digitalocean.com` for DOCR. */
  readonly server: string;
  lookUp(name: string): Promise<string | undefined>;
  push(image: Record<string, unknown>): Promise<string>;
}

/**
 * A registry in memory: `<registry>/<repository>:<tag>` → manifest digest. Its digests follow the image's name, which
 * carries the hash of its inputs: the same inputs, the same image. `pushes` lists every push, in order.
 */
export class FakeRegistry implements MockRegistry {
  readonly server = "registry.digitalocean.com";
  readonly tags = new Map<string, string>();
  readonly pushes: string[] = [];

  async lookUp(name: string): Promise<string | undefined> {
    return this.tags.get(name);
  }

  async push(image: Record<string, unknown>): Promise<string> {
    const name = String(image.imageName);
    const digest = fakeDigest(name);
    this.tags.set(name, digest);
    this.pushes.push(name);
    return digest;
  }
}

export interface ProgramRun {
  readonly resources: readonly RecordedResource[];
  readonly calls: readonly RecordedCall[];
  readonly outputs: Record<string, unknown>;
}

/**
 * The config the Pulumi CLI would hand the program for `stack`: Pulumi.yaml's project-level defaults, overridden by
 * Pulumi.<stack>.yaml when that file exists. Values are strings, as the CLI passes them.
 */
export function cliConfig(stack: string, root: string = REPO_ROOT): Record<string, string> {
  const values: Record<string, string> = { ...readProject(root).defaults };
  const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
  if (existsSync(stackFile)) {
    const parsed = parseYaml(readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> } | null;
    for (const [key, value] of Object.entries(parsed?.config ?? {})) values[key] = asConfigString(value);
  }
  return values;
}

const fakeDigest = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;

/** What the providers would return, for the resources and data sources the program uses. */
async function mockState(
  type: string,
  inputs: Record<string, unknown>,
  registry: MockRegistry,
  preview: boolean,
): Promise<Record<string, unknown>> {
  switch (type) {
    case "digitalocean:index/containerRegistry:ContainerRegistry":
      return { ...inputs, serverUrl: registry.server, endpoint: `${registry.server}/${inputs.name}` };
    case "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials": {
      const auth = Buffer.from("mock-token:mock-token").toString("base64");
      return { ...inputs, dockerCredentials: JSON.stringify({ auths: { [registry.server]: { auth } } }) };
    }
    case "docker:index/image:Image": {
      const imageName = String(inputs.imageName);
      // A preview builds only with buildOnPreview (default false) and then answers with the inputs alone, so
      // `repoDigest` stays unknown until `up` (pulumi-docker provider/provider.go, Create: canPreview).
      if (preview && inputs.buildOnPreview !== true) return inputs;
      // Without a push, `repoDigest` is the local image's ID (pulumi-docker provider/image.go, dockerBuild: "We set
      // repoDigest to the image ID returned from docker inspect" when SkipPush); after a push, the pushed manifest's
      // `<repository>@sha256:...` (parseRepoDigestFromAux).
      if (inputs.skipPush === true) return { ...inputs, imageName, repoDigest: fakeDigest(`image id ${imageName}`) };
      const repository = imageName.replace(/:[^:/]+$/, "");
      const digest = await registry.push(unwrapSecrets(inputs) as Record<string, unknown>);
      return { ...inputs, imageName, repoDigest: `${repository}@${digest}` };
    }
    // The local stack (infra/local.ts): a pulled image's ID, and the exit code of an attached one-shot container.
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, imageId: fakeDigest(String(inputs.name)) };
    case "docker:index/container:Container":
      // An attached container has stopped when create returns, and Read records its `exit_code`; a running one has
      // none (kreuzwerker/terraform-provider-docker, internal/provider/resource_docker_container_funcs.go,
      // resourceDockerContainerRead: `if !container.State.Running { d.Set("exit_code", ...) }`).
      return inputs.attach === true ? { ...inputs, exitCode: 0 } : inputs;
    case "digitalocean:index/databaseCluster:DatabaseCluster":
      return {
        ...inputs,
        user: "doadmin",
        host: `${inputs.name}-do-user-0.g.db.ondigitalocean.com`,
        port: 25060,
        password: "mock-admin-password",
      };
    case "digitalocean:index/databaseUser:DatabaseUser":
      return { ...inputs, password: "mock-user-password" };
    case "digitalocean:index/app:App": {
      const spec = appPlatformReadBack(inputs.spec) as { name: string };
      return { ...inputs, spec, liveUrl: `https://${spec.name}-x1y2z.ondigitalocean.app`, defaultIngress: "" };
    }
    default:
      return inputs;
  }
}

interface SpecEnv {
  key: string;
  value?: string;
  type?: string;
}

/**
 * The spec as the provider reads it back after a create or an update (and on every refresh): App Platform encrypts a
 * SECRET env's value on first submission and returns `EV[1:...]` from then on, keeping a value that already is such
 * ciphertext ("If the type is `SECRET`, the value will be encrypted on first submission. On following submissions,
 * the encrypted value should be used", digitalocean/openapi specification/resources/apps/models/
 * app_variable_definition.yml; the `EV[1:...]` read-back in terraform-provider-digitalocean #514 and #1603). The
 * provider stores what it reads verbatim (terraform-provider-digitalocean digitalocean/app/app_spec.go,
 * flattenAppEnvs). The encryption is randomised, so two reads of the same plaintext never match the plaintext.
 */
export function appPlatformReadBack(spec: unknown): unknown {
  const seal = (env: SpecEnv): SpecEnv => {
    if (env.type !== "SECRET" || env.value === undefined || /^EV\[\d+:[^\]]+\]$/.test(env.value)) return env;
    const nonce = createHash("sha256").update(`${env.key}:${Math.random()}`).digest("base64").slice(0, 16);
    return { ...env, value: `EV[1:${nonce}:${Buffer.from(env.value).toString("base64")}]` };
  };
  const components = (list: unknown) =>
    Array.isArray(list) ? list.map((c: { envs?: SpecEnv[] }) => (c.envs ? { ...c, envs: c.envs.map(seal) } : c)) : list;
  const s = spec as { services?: unknown; jobs?: unknown; envs?: SpecEnv[] };
  return {
    ...s,
    ...(s.services ? { services: components(s.services) } : {}),
    ...(s.jobs ? { jobs: components(s.jobs) } : {}),
    ...(s.envs ? { envs: s.envs.map(seal) } : {}),
  };
}

/**
 * getRegistryImage as kreuzwerker/terraform-provider-docker v4.5.0 (@pulumi/docker 5.x's upstream) answers it
 * (internal/provider/data_source_docker_registry_image.go, dataSourceDockerRegistryImageRead / getImageDigest): it
 * logs in with the provider's `registryAuth` entry for the image's registry, else anonymously; a tag the registry
 * lacks, and a private registry asked anonymously, fail with `got bad response from registry: <HTTP status>`. The
 * error reaches the program as the engine sends it, a gRPC error whose details are wrapped by the bridge
 * ("invoking <token>: ", pulumi-terraform-bridge pkg/tfbridge/provider.go Invoke) and by the engine ("invocation of
 * <token> returned an error: ", pulumi/pulumi pkg/resource/deploy/source_eval.go Invoke); the SDK throws
 * `new Error(err.details)` (@pulumi/pulumi runtime/invoke.ts, invokeAsync).
 */
async function getRegistryImage(
  token: string,
  inputs: Record<string, unknown>,
  provider: Record<string, unknown> | undefined,
  registry: MockRegistry,
): Promise<Record<string, unknown>> {
  const name = String(inputs.name);
  const host = name.split("/")[0] ?? "";
  const repositoryAndTag = name.slice(host.length + 1);
  const colon = repositoryAndTag.lastIndexOf(":");
  // The generated docker.Provider sends `registryAuth` as a JSON string (@pulumi/docker provider.js:
  // `pulumi.output(args?.registryAuth).apply(JSON.stringify)`), and that is what the mocks receive too.
  const raw = provider?.registryAuth ?? [];
  const auths = (typeof raw === "string" ? JSON.parse(raw) : raw) as {
    address?: string;
    username?: string;
    password?: string;
  }[];
  const login = auths.find((a) => a.address?.replace(/^https?:\/\//, "") === host && a.username);
  const digest = login === undefined ? undefined : await registry.lookUp(name);
  const status = login === undefined ? "401 Unauthorized" : digest === undefined ? "404 Not Found" : undefined;
  if (status !== undefined) {
    const reason =
      `Got error when attempting to fetch image version ${repositoryAndTag.slice(0, colon)}:` +
      `${repositoryAndTag.slice(colon + 1)} from registry: got bad response from registry: ${status}`;
    const details = `invocation of ${token} returned an error: invoking ${token}: ${reason}`;
    throw Object.assign(new Error(details), { code: 2, details });
  }
  return { id: digest, name, insecureSkipVerify: false, sha256Digest: digest };
}

function mockCall(token: string, inputs: Record<string, unknown>, registry: MockRegistry): Record<string, unknown> {
  if (token === "digitalocean:index/getContainerRegistry:getContainerRegistry") {
    return {
      id: inputs.name,
      name: inputs.name,
      serverUrl: registry.server,
      endpoint: `${registry.server}/${inputs.name}`,
      region: "fra1",
      subscriptionTierSlug: "basic",
      storageUsageBytes: 0,
      createdAt: "2026-01-01T00:00:00Z",
    };
  }
  throw new Error(`unexpected provider call ${token}`);
}

type Pulumi = typeof import("@pulumi/pulumi");

/**
 * Turn an Output (or a plain value) into a promise of its value. An Output whose computation failed rejects, as the
 * CLI fails the run on it (@pulumi/pulumi runtime reports the unhandled rejection); `apply` alone would never return.
 */
export function resolvedValue(pulumi: Pulumi, value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    // `promise()` and `isKnown` are on every Output the SDK makes (output.ts, OutputImpl): the first rejects with
    // the failure, the second is false for what a preview can't know (whose `apply` never runs).
    const internals = value as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean> };
    const failed = internals.promise().then(() => new Promise(() => {}));
    const unknown = internals.isKnown.then((known) => (known ? new Promise(() => {}) : UNKNOWN));
    const resolved = new Promise((resolve) => (value as import("@pulumi/pulumi").Output<unknown>).apply(resolve));
    return Promise.race([resolved, failed, unknown]);
  }
  return Promise.resolve(value);
}

let lastResources: readonly RecordedResource[] = [];

/** What the latest runProgram registered, also when the program threw (to show that nothing was created). */
export function lastRunResources(): readonly RecordedResource[] {
  return lastResources;
}

/**
 * Run infra/index.ts for `stack` with `config` (`<namespace>:<key>` → string) and return what it registered.
 * Rejects with the program's error when it throws (a config error, for example).
 */
export interface RunOptions {
  /** The registry the stack pushes to and looks tags up in; an empty one by default. */
  readonly registry?: MockRegistry;
  /** The checkout whose infra/index.ts runs (a copy made by copyCheckout); this repository by default. */
  readonly root?: string;
  /**
   * Run in `<root>/infra`, as the Pulumi CLI does: it starts the program, and the provider plugins, in the folder of
   * Pulumi.yaml's `main` (pulumi/pulumi pkg/engine/project.go, getPwdMain). Off by default, so that tests can compare
   * the program's relative paths with ones computed in the test's own working directory.
   */
  readonly asTheCli?: boolean;
  /** `pulumi preview` instead of `pulumi up`: the engine's dry run, in which nothing is built or pushed. */
  readonly preview?: boolean;
}

/** How an exported value that a preview can't know yet is shown: the CLI prints `output<string>`. */
export const UNKNOWN = "output<string>";

export async function runProgram(
  stack: string,
  config: Record<string, string>,
  options: RunOptions = {},
): Promise<ProgramRun> {
  vi.resetModules();
  const pulumi: Pulumi = await import("@pulumi/pulumi");
  const resources: RecordedResource[] = [];
  lastResources = resources;
  const calls: RecordedCall[] = [];
  const registry = options.registry ?? new FakeRegistry();
  /** Explicit providers by the ID the mocks gave them: an invoke names its provider as `<urn>::<id>`. */
  const providers = new Map<string, { name: string; inputs: Record<string, unknown> }>();
  await pulumi.runtime.setMocks(
    {
      newResource: async ({ type, name, inputs, custom }) => {
        const id = custom ? `${name}-id` : undefined;
        if (type.startsWith("pulumi:providers:") && id !== undefined) {
          providers.set(id, { name, inputs: unwrapSecrets(inputs) as Record<string, unknown> });
        }
        return { id, state: await mockState(type, inputs, registry, options.preview === true) };
      },
      call: ({ token, inputs, provider }) => {
        const explicit = provider ? providers.get(provider.slice(provider.lastIndexOf("::") + 2)) : undefined;
        calls.push({ token, inputs, ...(explicit ? { provider: explicit.name } : {}) });
        if (token === "docker:index/getRegistryImage:getRegistryImage") {
          return getRegistryImage(token, inputs, explicit?.inputs, registry);
        }
        return mockCall(token, inputs, registry);
      },
    },
    PROJECT,
    stack,
    options.preview === true,
  );
  // Record the registration options the engine receives; MockResourceArgs carries only type, name and inputs.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): Promise<void>;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const raw = deserializeProperties(req.getObject());
    resources.push({
      type: req.getType(),
      name: req.getName(),
      inputs: unwrapSecrets(raw) as Record<string, unknown>,
      secretInputs: Object.keys(raw).filter((key) => containsSecret(raw[key])),
      custom: req.getCustom(),
      parent: req.getParent(),
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      ignoreChanges: req.getIgnorechangesList(),
      createTimeout: req.getCustomtimeouts()?.getCreate() || undefined,
      customTimeouts: customTimeoutsOf(req),
      dependencies: req.getDependenciesList(),
      replacementTrigger: req.getReplacementTrigger()?.toJavaScript(),
      propertyDependencies: propertyDependenciesOf(req),
    });
    return register(req, callback);
  };
  pulumi.runtime.setAllConfig(config);

  const previousCwd = process.cwd();
  if (options.asTheCli) process.chdir(path.join(options.root ?? REPO_ROOT, "infra"));
  try {
    return await importAndResolve(pulumi, options, resources, calls);
  } finally {
    process.chdir(previousCwd);
  }
}

async function importAndResolve(
  pulumi: Pulumi,
  options: RunOptions,
  resources: RecordedResource[],
  calls: RecordedCall[],
): Promise<ProgramRun> {
  let program: Record<string, unknown>;
  try {
    program = (await (options.root === undefined
      ? import("../../../infra/index")
      : import(path.join(options.root, "infra/index.ts")))) as Record<string, unknown>;
  } catch (error) {
    // Registrations are asynchronous: let any that a failing program started reach the recorder before it rejects,
    // so that lastRunResources() shows everything the program created.
    await waitForRPCs().catch(() => {});
    throw error;
  }
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = await resolvedValue(pulumi, value);
  // Resources that no export depends on (the database firewall) may still be registering: let the queue drain.
  await waitForRPCs();
  return { resources, calls, outputs };
}

function propertyDependenciesOf(req: RegisterRequest): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => {
    result[key] = deps.getUrnsList();
  });
  return result;
}

function customTimeoutsOf(req: RegisterRequest): Record<string, string> {
  const timeouts = req.getCustomtimeouts();
  const all = { create: timeouts?.getCreate(), update: timeouts?.getUpdate(), delete: timeouts?.getDelete() };
  return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => !!entry[1]));
}

/** The wire form of a secret value: `{ [SECRET_SIG]: SECRET_VALUE, value }` (pulumi runtime/rpc specialSigKey). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
}

function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
  getPropertydependenciesMap(): {
    forEach(callback: (deps: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
  getObject(): unknown;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
}
