// Runs a Pulumi program in-process under `pulumi.runtime.setMocks` (the Pulumi CLI can't run here, see
// ../shared/WORKPLACE.md) and records what the engine would be asked to create: every resource's type, name and
// inputs (from the mocks), and its options (dependencies, retainOnDelete, deleteBeforeReplace) from the
// registration requests themselves, which the mocks API does not pass on.
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly custom: boolean;
  /** As the provider would receive them; secret values are still wrapped (see `isSecretValue`, `reveal`). */
  readonly inputs: Record<string, unknown>;
  /** URNs of every resource this one waits for (explicit dependsOn and the ones its inputs come from). */
  readonly dependencies: readonly string[];
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
}

export interface MockRun<T> {
  readonly resources: readonly RecordedResource[];
  /** What the program returned (the module's exports, or a component). */
  readonly result: T;
}

/** The image ID the mocks report for an image resource of this logical name (`sha256:` + 64 hex digits). */
export function mockImageId(name: string): string {
  return `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}`;
}

/** Outputs the Docker provider computes, as it would report them for a healthy run. */
function computedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const digest = mockImageId(name);
  switch (type) {
    case "docker:index/image:Image":
      return { repoDigest: digest, baseImageName: inputs.imageName };
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: digest, repoDigest: `${String(inputs.name)}@${digest}` };
    case "docker:index/container:Container":
      // An attached one-shot container has exited; `exitCodes` lets a test make it fail.
      return inputs.attach === true ? { exitCode: 0 } : {};
    default:
      return {};
  }
}

export interface RunOptions {
  readonly stack: string;
  /** Config without the project prefix (`localPort`, not `newsletter:localPort`), as the CLI would pass it. */
  readonly config?: Readonly<Record<string, string>>;
  /** Keys of `config` that are secrets (set with `pulumi config set --secret`). */
  readonly secretKeys?: readonly string[];
  /** Per logical name, the state the mocks report instead of the computed one (e.g. `{ exitCode: 1 }`). */
  readonly stateOverrides?: Readonly<Record<string, Record<string, unknown>>>;
}

export const PROJECT = "newsletter";

/**
 * Sets the mocks and config, then runs `program` (which imports the program fresh, after `vi.resetModules()`), and
 * waits until every resource registration has been answered.
 */
export async function runUnderMocks<T>(options: RunOptions, program: () => Promise<T>): Promise<MockRun<T>> {
  vi.resetModules();
  const resources: RecordedResource[] = [];
  const inputsByName = new Map<string, { type: string; inputs: Record<string, unknown>; custom: boolean }>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        inputsByName.set(args.name, { type: args.type, inputs: args.inputs, custom: args.custom ?? false });
        const state = {
          ...args.inputs,
          ...computedState(args.type, args.name, args.inputs),
          ...options.stateOverrides?.[args.name],
        };
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    PROJECT,
    options.stack,
    false,
  );
  const config = Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [`${PROJECT}:${k}`, v]));
  pulumi.runtime.setAllConfig(
    config,
    (options.secretKeys ?? []).map((k) => `${PROJECT}:${k}`),
  );

  // The registration request carries the options the mocks API leaves out. Record them with the URN it answers.
  const pending = new Set<Promise<void>>();
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp?: RegisterResponse) => void): void;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    let done: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      done = resolve;
    });
    pending.add(answered);
    register(req, (err, resp) => {
      if (resp !== undefined) {
        const recorded = inputsByName.get(req.getName());
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: resp.getUrn(),
          custom: req.getCustom(),
          inputs: recorded?.inputs ?? {},
          dependencies: req.getDependenciesList(),
          retainOnDelete: req.getRetainondelete() ?? false,
          deleteBeforeReplace: req.getDeletebeforereplace(),
        });
      }
      done();
      callback(err, resp);
    });
  };

  const result = await program();
  // Registrations start as their inputs resolve (the app container waits for the migration's exit code), so wait
  // until no new one appears.
  for (let seen = -1; seen !== pending.size; ) {
    seen = pending.size;
    await Promise.all(pending);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { resources, result };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
}
interface RegisterResponse {
  getUrn(): string;
}

/**
 * The value of an Output, awaited. Output#promise is what Pulumi's own tests use; `apply` never sees a failure. A
 * failed Output also rejects its `isKnown` and `isSecret` promises, which nobody else awaits: they are observed here
 * so that the failure surfaces once, through the returned promise.
 */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  const internals = output as unknown as { promise(): Promise<T>; isKnown: Promise<boolean> };
  internals.isKnown.catch(() => undefined);
  output.isSecret.catch(() => undefined);
  return internals.promise();
}

/** Is this recorded input value a Pulumi secret (encrypted in the state, masked in the CLI's output)? */
export function isSecretValue(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/** The recorded inputs with every secret unwrapped: what the provider finally hands to Docker. */
export function reveal<T = unknown>(value: unknown): T {
  if (isSecretValue(value)) return reveal((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map((v) => reveal(v)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)])) as T;
  }
  return value as T;
}

/** The one recorded resource of this type and logical name; throws with what exists otherwise. */
export function resourceNamed(run: MockRun<unknown>, type: string, name: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    const all = run.resources.map((r) => `${r.type} ${r.name}`).join(", ");
    throw new Error(`expected one ${type} named ${name}, found ${found.length}; recorded: ${all}`);
  }
  return found[0] as RecordedResource;
}
