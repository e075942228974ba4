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
  readonly createTimeout: string | undefined;
  readonly dependencies: readonly string[];
}

export interface RecordedCall {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
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
  const project = parseYaml(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config?: Record<string, { default?: unknown }>;
  };
  const values: Record<string, string> = {};
  for (const [key, spec] of Object.entries(project.config ?? {})) {
    if (spec.default !== undefined)
      values[key.includes(":") ? key : `${project.name}:${key}`] = asConfigString(spec.default);
  }
  const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
  if (existsSync(stackFile)) {
    const parsed = parseYaml(readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> } | null;
    for (const [key, value] of Object.entries(parsed?.config ?? {})) values[key] = asConfigString(value);
  }
  return values;
}

function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

const fakeDigest = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;

/** What the providers would return, for the resources and data sources the program uses. */
function mockState(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "digitalocean:index/containerRegistry:ContainerRegistry":
      return {
        ...inputs,
        serverUrl: "registry.digitalocean.com",
        endpoint: `registry.digitalocean.com/${inputs.name}`,
      };
    case "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials": {
      const auth = Buffer.from("mock-token:mock-token").toString("base64");
      return { ...inputs, dockerCredentials: JSON.stringify({ auths: { "registry.digitalocean.com": { auth } } }) };
    }
    case "docker:index/image:Image": {
      const imageName = String(inputs.imageName);
      const repository = imageName.replace(/:[^:/]+$/, "");
      return { ...inputs, imageName, repoDigest: `${repository}@${fakeDigest(imageName)}` };
    }
    // The local stack (infra/local.ts): a pulled image's ID, and the exit code of an attached one-shot container.
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, imageId: fakeDigest(String(inputs.name)) };
    case "docker:index/container:Container":
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

function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (token === "digitalocean:index/getContainerRegistry:getContainerRegistry") {
    return {
      id: inputs.name,
      name: inputs.name,
      serverUrl: "registry.digitalocean.com",
      endpoint: `registry.digitalocean.com/${inputs.name}`,
      region: "fra1",
      subscriptionTierSlug: "basic",
      storageUsageBytes: 0,
      createdAt: "2026-01-01T00:00:00Z",
    };
  }
  throw new Error(`unexpected provider call ${token}`);
}

type Pulumi = typeof import("@pulumi/pulumi");

/** Turn an Output (or a plain value) into a promise of its value. */
export function resolvedValue(pulumi: Pulumi, value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return new Promise((resolve) => (value as import("@pulumi/pulumi").Output<unknown>).apply(resolve));
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
export async function runProgram(stack: string, config: Record<string, string>): Promise<ProgramRun> {
  vi.resetModules();
  const pulumi: Pulumi = await import("@pulumi/pulumi");
  const resources: RecordedResource[] = [];
  lastResources = resources;
  const calls: RecordedCall[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs, custom }) => ({
        id: custom ? `${name}-id` : undefined,
        state: mockState(type, inputs),
      }),
      call: ({ token, inputs }) => {
        calls.push({ token, inputs });
        return mockCall(token, inputs);
      },
    },
    PROJECT,
    stack,
    false,
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
      createTimeout: req.getCustomtimeouts()?.getCreate() || undefined,
      dependencies: req.getDependenciesList(),
    });
    return register(req, callback);
  };
  pulumi.runtime.setAllConfig(config);

  let program: Record<string, unknown>;
  try {
    program = (await import("../../../infra/index")) as Record<string, unknown>;
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
  getCustomtimeouts(): { getCreate(): string } | undefined;
  getDependenciesList(): string[];
  getObject(): unknown;
}
