// THE boundary to Pulumi: the only module that imports the Automation API. Everything above it (commands, tags,
// the reaper, summaries) depends on the small interfaces below, so it is unit-tested with an in-memory fake and no
// Pulumi CLI. Each method here is one Automation API call plus the translation of its errors into exit codes.
import {
  CommandError,
  ConcurrentUpdateError,
  type EngineEvent,
  LocalWorkspace,
  type OutputMap,
  Stack,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";
import { ExitCode, OpsError } from "./errors";
import type { PlannedStep } from "./preview-summary";

export interface StackOutput {
  readonly value: unknown;
  readonly secret: boolean;
}
export type StackOutputs = Readonly<Record<string, StackOutput>>;

export interface PreviewOutcome {
  /** The planned steps from the engine's events: what the summariser reads. */
  readonly steps: readonly PlannedStep[];
  /** The text Pulumi printed (with `diff`, the full property diff). */
  readonly stdout: string;
  /** Pulumi's own count per operation, e.g. `{ same: 9, update: 1 }`. */
  readonly changeSummary: Readonly<Record<string, number>>;
}

export interface StackHandle {
  readonly name: string;
  preview(options: { diff: boolean; expectNoChanges?: boolean }): Promise<PreviewOutcome>;
  /** `pulumi refresh --preview-only`: what differs between the state and the cloud, changing neither. */
  previewRefresh(): Promise<PreviewOutcome>;
  up(): Promise<StackOutputs>;
  /**
   * `pulumi destroy`; with `remove`, then `pulumi stack rm`, which also deletes Pulumi.<stack>.yaml (and with it the
   * stack's secrets) unless `preserveConfig` is set.
   */
  destroy(options: { remove: boolean; preserveConfig?: boolean }): Promise<void>;
  outputs(): Promise<StackOutputs>;
  listTags(): Promise<Record<string, string>>;
  setTags(tags: Readonly<Record<string, string>>): Promise<void>;
  /**
   * The value of `key` (fully qualified, e.g. `newsletter:localPostgresPassword`) as the CLI lists it, secrets
   * decrypted, or undefined when the key has none. The listing also carries the defaults Pulumi.yaml declares, so a
   * key the stack never set can come back with its project default (often "").
   */
  configValue(key: string): Promise<string | undefined>;
  /** `pulumi config set --secret key value`: stored encrypted by the stack's secrets provider. */
  setSecretConfig(key: string, value: string): Promise<void>;
}

export interface StackListing {
  readonly name: string;
  readonly lastUpdate?: string;
  readonly updateInProgress?: boolean;
  readonly resourceCount?: number;
}

export interface PulumiWorkspace {
  createOrSelect(stack: string): Promise<StackHandle>;
  /** The stack, or undefined when the backend has no stack of that name. */
  select(stack: string): Promise<StackHandle | undefined>;
  listStacks(): Promise<StackListing[]>;
}

export interface WorkspaceSettings {
  /** The directory with Pulumi.yaml: the repository root. */
  readonly workDir: string;
  /** Passed to every Pulumi command (backend URL, passphrase); never logged. */
  readonly envVars: Readonly<Record<string, string>>;
  /** `passphrase` on self-managed backends; undefined lets Pulumi Cloud use its own. */
  readonly secretsProvider?: string;
  /** Pulumi's progress output, as it arrives. */
  readonly onOutput: (text: string) => void;
}

export type OpenWorkspace = (settings: WorkspaceSettings) => Promise<PulumiWorkspace>;

/** The `error:` lines Pulumi printed, for a one-line report (the full output has been streamed already). */
export function pulumiErrorSummary(message: string): string {
  const lines = message
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^error:/i.test(line));
  return lines.length > 0 ? [...new Set(lines)].slice(0, 3).join(" / ") : "see the output above";
}

function translate(error: unknown, what: string): never {
  if (error instanceof OpsError) throw error;
  if (error instanceof ConcurrentUpdateError) {
    throw new OpsError(
      `${what}: another update holds the stack's lock; try again when it has finished`,
      ExitCode.locked,
    );
  }
  if (error instanceof CommandError || error instanceof Error) {
    throw new OpsError(`${what} failed: ${pulumiErrorSummary(error.message)}`, ExitCode.failed);
  }
  throw new OpsError(`${what} failed: ${String(error)}`, ExitCode.failed);
}

async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return translate(error, what);
  }
}

function toOutputs(map: OutputMap): StackOutputs {
  return Object.fromEntries(Object.entries(map).map(([key, out]) => [key, { value: out.value, secret: out.secret }]));
}

function stepCollector(): { steps: PlannedStep[]; onEvent: (event: EngineEvent) => void } {
  const steps: PlannedStep[] = [];
  return {
    steps,
    onEvent: (event) => {
      // Pre-events carry the plan; outputs events carry what a refresh found (`diffs`). Duplicates fold by URN.
      for (const meta of [event.resourcePreEvent?.metadata, event.resOutputsEvent?.metadata]) {
        if (meta === undefined) continue;
        steps.push({ op: meta.op, urn: meta.urn, type: meta.type, keys: meta.keys ?? [], diffs: meta.diffs ?? [] });
      }
    },
  };
}

function handle(stack: Stack, onOutput: (text: string) => void): StackHandle {
  const what = (op: string) => `pulumi ${op} of stack ${stack.name}`;
  return {
    name: stack.name,
    preview: (options) =>
      guarded(what("preview"), async () => {
        const { steps, onEvent } = stepCollector();
        const result = await stack.preview({
          diff: options.diff,
          expectNoChanges: options.expectNoChanges,
          color: "never",
          onOutput,
          onEvent,
        });
        return { steps, stdout: result.stdout, changeSummary: { ...result.changeSummary } };
      }),
    previewRefresh: () =>
      guarded(what("refresh --preview-only"), async () => {
        const { steps, onEvent } = stepCollector();
        const result = await stack.previewRefresh({ color: "never", onOutput, onEvent });
        return { steps, stdout: result.stdout, changeSummary: { ...result.changeSummary } };
      }),
    up: () => guarded(what("up"), async () => toOutputs((await stack.up({ color: "never", onOutput })).outputs)),
    destroy: (options) =>
      guarded(what("destroy"), async () => {
        await stack.destroy({ color: "never", onOutput });
        // Stack#destroy({ remove: true }) runs `stack rm` with no options (pulumi/pulumi v3.248.0,
        // sdk/nodejs/automation/stack.ts, destroy), so the removal is asked for here, where the option can be passed.
        if (options.remove) await stack.workspace.removeStack(stack.name, { preserveConfig: options.preserveConfig });
      }),
    outputs: () => guarded(what("stack output"), async () => toOutputs(await stack.outputs())),
    listTags: () => guarded(what("stack tag ls"), () => stack.listTags()),
    // `config --show-secrets --json` (LocalWorkspace#getAllConfig, sdk/nodejs/automation/localWorkspace.ts) lists
    // project defaults as well: "when listing configuration values also show values coming from the project"
    // (pkg/cmd/pulumi/config/config.go, listConfig, workspace.ApplyProjectConfig).
    configValue: (key) => guarded(what("config"), async () => (await stack.getAllConfig())[key]?.value),
    setSecretConfig: (key, value) =>
      guarded(what(`config set --secret ${key}`), () => stack.setConfig(key, { value, secret: true })),
    setTags: (tags) =>
      guarded(what("stack tag set"), async () => {
        for (const [key, value] of Object.entries(tags)) await stack.setTag(key, value);
      }),
  };
}

/** The real workspace: a LocalWorkspace on the repository (Pulumi.yaml at its root). */
export const openWorkspace: OpenWorkspace = async (settings) => {
  const workspace = await guarded("starting the Pulumi CLI", () =>
    LocalWorkspace.create({
      workDir: settings.workDir,
      envVars: { ...settings.envVars },
      ...(settings.secretsProvider === undefined ? {} : { secretsProvider: settings.secretsProvider }),
    }),
  );
  return {
    createOrSelect: (name) =>
      guarded(`selecting or creating stack ${name}`, async () =>
        handle(await Stack.createOrSelect(name, workspace), settings.onOutput),
      ),
    select: async (name) => {
      try {
        return handle(await Stack.select(name, workspace), settings.onOutput);
      } catch (error) {
        if (error instanceof StackNotFoundError) return undefined;
        return translate(error, `selecting stack ${name}`);
      }
    },
    listStacks: () =>
      guarded("pulumi stack ls", async () =>
        (await workspace.listStacks()).map((s) => ({
          name: s.name,
          lastUpdate: s.lastUpdate,
          updateInProgress: s.updateInProgress,
          resourceCount: s.resourceCount,
        })),
      ),
  };
};
