// The stand-in `pulumi` executable (bin/pulumi): answers the commands the Automation API sends (version, whoami,
// stack select/init/rm/ls/tag/output/history, config, up, preview, destroy) as Pulumi CLI v3.248.0 does on a DIY file
// backend with the passphrase secrets provider, so that @pulumi/pulumi/automation builds its real arguments and
// parses real output. Its `up`, `preview` and `destroy` emulate the local stack's program (infra/index.ts with
// infra/local.ts) against the Docker engine model in engine.ts: config is validated by the real infra/config.ts,
// Postgres initialises an empty volume with the password it gets, and the migrations fail when that password is not
// the volume's. Behaviours, each from pulumi/pulumi at v3.248.0 unless said otherwise:
//   - `config` / `config get` list Pulumi.yaml's defaults too (pkg/cmd/pulumi/config/config.go, listConfig and
//     getConfig call workspace.ApplyProjectConfig);
//   - `stack rm` refuses a stack with resources, and deletes Pulumi.<stack>.yaml unless --preserve-config
//     (pkg/cmd/pulumi/stack/stack_remove.go);
//   - `stack init` with the passphrase provider reuses an existing `encryptionsalt`, failing with "incorrect
//     passphrase" when the passphrase does not open it (pkg/secrets/passphrase/manager.go,
//     NewPromptingPassphraseSecretsManager, symmetricCrypterFromPhraseAndState);
//   - secrets are AES-256-GCM with a PBKDF2-SHA256 key of 1,000,000 iterations, written `v1:<nonce>:<ciphertext>`
//     (sdk/go/common/resource/config/crypt.go, NewSymmetricCrypterFromPassphrase, EncryptValue);
//   - errors are `error: <message>` on stderr with a non-zero exit, and the texts the Automation API matches
//     ("no stack named '<s>' found", "stack '<s>' already exists": pkg/backend/backenderr/backenderr.go;
//     sdk/nodejs/automation/errors.ts, createCommandError);
//   - with `--event-log tcp://...` (CLIs after 3.205.0) engine events go to the Automation API's gRPC Events
//     service, the summary last (sdk/nodejs/automation/stack.ts, setupEventLog, EventsServer).
import { createCipheriv, createDecipheriv, createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { type EngineState, loadEngine, saveEngine } from "./engine";
import { readProject } from "./project";

export const STANDIN_VERSION = "v3.248.0";

class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

// ---- arguments -----------------------------------------------------------------------------------------------------

const VALUE_FLAGS = new Set([
  "--stack",
  "-s",
  "--color",
  "--exec-kind",
  "--event-log",
  "--client",
  "--secrets-provider",
  "--page-size",
  "--page",
  "--message",
  "--exec-agent",
]);
const BOOL_FLAGS = new Set([
  "--non-interactive",
  "--yes",
  "--skip-preview",
  "--json",
  "--show-secrets",
  "--secret",
  "--plaintext",
  "--preserve-config",
  "--force",
  "--diff",
  "--expect-no-changes",
  "--remove-backups",
]);

interface Args {
  readonly words: string[];
  readonly flags: Map<string, string>;
  readonly afterDashes: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const words: string[] = [];
  const flags = new Map<string, string>();
  let afterDashes: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === "--") {
      afterDashes = argv.slice(i + 1);
      break;
    }
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (VALUE_FLAGS.has(flag as string)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new CliError(`flag needs an argument: ${flag}`, 2);
      flags.set(flag === "-s" ? "--stack" : (flag as string), value);
    } else if (BOOL_FLAGS.has(flag as string)) {
      flags.set(flag as string, inline ?? "true");
    } else if (arg.startsWith("-")) {
      throw new CliError(`unknown flag: ${flag}`, 2);
    } else {
      words.push(arg);
    }
  }
  return { words, flags, afterDashes };
}

// ---- workspace, backend, secrets ------------------------------------------------------------------------------------

const workDir = process.cwd();
const project = readProject(workDir);

function backendDir(): string {
  const url = process.env.PULUMI_BACKEND_URL ?? "";
  if (!url.startsWith("file://")) throw new CliError(`the stand-in serves only file:// backends, not "${url}"`);
  return path.join(fileURLToPath(url), ".pulumi", "stacks", project.name);
}

interface UpdateRecord {
  version: number;
  kind: "update" | "destroy";
  startTime: string;
  endTime: string;
  result: "succeeded" | "failed";
  resourceChanges: Record<string, number>;
}

interface ResourceRecord {
  readonly name: string;
  readonly type: string;
  /** What the resource was created from, to decide between same and replace. */
  readonly fingerprint: string;
  readonly retainOnDelete?: boolean;
}

interface StackRecord {
  tags: Record<string, string>;
  resources: ResourceRecord[];
  outputs: Record<string, unknown>;
  history: UpdateRecord[];
}

const stackFile = (stack: string) => path.join(backendDir(), `${stack}.json`);
const readStack = (stack: string): StackRecord | undefined =>
  existsSync(stackFile(stack)) ? (JSON.parse(readFileSync(stackFile(stack), "utf8")) as StackRecord) : undefined;
function writeStack(stack: string, record: StackRecord): void {
  mkdirSync(backendDir(), { recursive: true });
  writeFileSync(stackFile(stack), JSON.stringify(record, null, 2));
}
function requireStack(stack: string): StackRecord {
  const record = readStack(stack);
  if (record === undefined) throw new CliError(`no stack named '${stack}' found`, 6);
  return record;
}

interface StackSettings {
  secretsprovider?: string;
  encryptionsalt?: string;
  config?: Record<string, unknown>;
}

const settingsFile = (stack: string) => path.join(workDir, `Pulumi.${stack}.yaml`);
const readSettings = (stack: string): StackSettings =>
  existsSync(settingsFile(stack))
    ? ((parseYaml(readFileSync(settingsFile(stack), "utf8")) as StackSettings) ?? {})
    : {};
const writeSettings = (stack: string, settings: StackSettings) =>
  writeFileSync(settingsFile(stack), stringifyYaml(settings));

function passphrase(): string {
  const direct = process.env.PULUMI_CONFIG_PASSPHRASE;
  if (direct !== undefined) return direct;
  const file = process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (file !== undefined) return readFileSync(file, "utf8");
  throw new CliError(
    "passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
  );
}

function keyFor(salt: Buffer): Buffer {
  return pbkdf2Sync(passphrase(), salt, 1_000_000, 32, "sha256");
}

function encrypt(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

function decrypt(key: Buffer, value: string): string {
  const [version, nonce, sealed] = value.split(":");
  if (version !== "v1" || nonce === undefined || sealed === undefined) throw new CliError("malformed secret");
  const bytes = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
}

/** The stack's crypter: the existing salt (checked against the passphrase) or, with `create`, a new one. */
function crypter(stack: string, settings: StackSettings, create: boolean): Buffer {
  const salt = settings.encryptionsalt;
  if (salt === undefined) {
    if (!create) throw new CliError(`stack '${stack}' has no secrets provider set up`);
    const fresh = randomBytes(8);
    const key = keyFor(fresh);
    settings.encryptionsalt = `v1:${fresh.toString("base64")}:${encrypt(key, "pulumi")}`;
    return key;
  }
  const [, saltB64] = salt.split(":");
  const key = keyFor(Buffer.from(saltB64 ?? "", "base64"));
  let check: string | undefined;
  try {
    check = decrypt(key, salt.slice(salt.indexOf(":", salt.indexOf(":") + 1) + 1));
  } catch {
    check = undefined;
  }
  if (check !== "pulumi") throw new CliError("incorrect passphrase");
  return key;
}

interface ConfigEntry {
  value: string;
  secret: boolean;
}

/** The stack's config with Pulumi.yaml's defaults applied, secrets decrypted (only when there is one to decrypt). */
function effectiveConfig(stack: string): Record<string, ConfigEntry> {
  const settings = readSettings(stack);
  const entries: Record<string, ConfigEntry> = {};
  let key: Buffer | undefined;
  for (const [name, raw] of Object.entries(settings.config ?? {})) {
    if (typeof raw === "object" && raw !== null && "secure" in raw) {
      key ??= crypter(stack, settings, false);
      entries[name] = { value: decrypt(key, String((raw as { secure: string }).secure)), secret: true };
    } else {
      entries[name] = { value: typeof raw === "string" ? raw : JSON.stringify(raw), secret: false };
    }
  }
  for (const [name, value] of Object.entries(project.defaults)) entries[name] ??= { value, secret: false };
  return entries;
}

// ---- the local stack's program, against the engine model --------------------------------------------------------

function engineFile(): string {
  const file = process.env.STANDIN_DOCKER_STATE;
  if (file === undefined) throw new CliError("stand-in: STANDIN_DOCKER_STATE is not set");
  return file;
}

interface Plan {
  readonly resources: ResourceRecord[];
  readonly outputs: Record<string, unknown>;
  readonly password: string;
  readonly keepData: boolean;
  readonly names: import("../../../infra/local-spec").LocalNames;
}

/** What infra/index.ts declares for the stack, or the error it stops with (from the real infra/config.ts). */
async function program(stack: string): Promise<Plan> {
  // Imported here, not at the top: infra/config.ts loads @pulumi/pulumi, seconds that only up and preview need.
  const { parseStackConfig } = await import("../../../infra/config");
  const { localNames } = await import("../../../infra/local-spec");
  const values: Record<string, string> = {};
  for (const [name, entry] of Object.entries(effectiveConfig(stack))) {
    if (name.startsWith(`${project.name}:`)) values[name.slice(project.name.length + 1)] = entry.value;
  }
  let config: import("../../../infra/config").StackConfig;
  try {
    config = parseStackConfig({ project: project.name, stack, values });
  } catch (error) {
    // How the Node.js language host reports a program that threw (pulumi/pulumi sdk/nodejs/cmd/run/run.ts).
    throw new CliError(`Running program '${workDir}' failed with an unhandled exception:\n${(error as Error).message}`);
  }
  if (config.target !== "local") throw new CliError(`the stand-in emulates only the local stack's program`);
  const names = localNames(project.name, stack);
  // Containers are replaced when what they are created from changes; the password reaches all three (env).
  const fingerprint = createHash("sha256").update(config.postgresPassword).digest("hex");
  const resource = (type: string, name: string, extra: Partial<ResourceRecord> = {}): ResourceRecord => ({
    type,
    name,
    fingerprint,
    ...extra,
  });
  return {
    resources: [
      resource("docker:index/volume:Volume", names.volume, {
        fingerprint: "",
        retainOnDelete: config.keepDataOnDestroy,
      }),
      resource("docker:index/container:Container", names.postgres),
      resource("docker:index/container:Container", names.migrate),
      resource("docker:index/container:Container", names.app),
    ],
    outputs: {
      url: `http://127.0.0.1:${config.port}`,
      containers: { postgres: names.postgres, migrate: names.migrate, app: names.app, volume: names.volume },
    },
    password: config.postgresPassword,
    keepData: config.keepDataOnDestroy,
    names,
  };
}

type Op = "create" | "same" | "replace" | "delete";

function stepsFor(record: StackRecord, plan: Plan): { resource: ResourceRecord; op: Op }[] {
  return plan.resources.map((resource) => {
    const old = record.resources.find((r) => r.name === resource.name && r.type === resource.type);
    const op: Op = old === undefined ? "create" : old.fingerprint === resource.fingerprint ? "same" : "replace";
    return { resource, op };
  });
}

/**
 * Applies the plan to the engine in the program's order: volume, Postgres, migrations, app. Postgres applies
 * POSTGRES_PASSWORD only when it initialises an empty data directory (docker-library/postgres,
 * docker-entrypoint.sh: docker_setup_db runs only when DATABASE_ALREADY_EXISTS is empty), so the migrations connect
 * only when the password is the volume's. The app container is not touched until they exited 0 (infra/local.ts).
 * Updates of an existing container don't check its health; only a create waits for healthy
 * (kreuzwerker/terraform-provider-docker, resourceDockerContainerCreate).
 */
function apply(
  engine: EngineState,
  record: StackRecord,
  plan: Plan,
): { changes: Record<string, number>; error?: string } {
  const changes: Record<string, number> = {};
  const count = (op: Op) => {
    changes[op] = (changes[op] ?? 0) + 1;
  };
  const kept: ResourceRecord[] = [];
  const done = (resource: ResourceRecord) => {
    record.resources = [...record.resources.filter((r) => r.name !== resource.name), resource];
    kept.push(resource);
  };
  for (const { resource, op } of stepsFor(record, plan)) {
    count(op);
    const { names } = plan;
    if (resource.type === "docker:index/volume:Volume") {
      engine.volumes[resource.name] ??= {};
      done(resource);
      continue;
    }
    if (op === "same") {
      done(resource);
      continue;
    }
    if (resource.name === names.postgres) {
      const volume = engine.volumes[names.volume] ?? {};
      volume.initialisedWith ??= plan.password;
      engine.volumes[names.volume] = volume;
      engine.containers[resource.name] = {
        Status: "running",
        Running: true,
        ExitCode: 0,
        Health: { Status: "healthy" },
      };
    } else if (resource.name === names.migrate) {
      const ok = engine.volumes[names.volume]?.initialisedWith === plan.password;
      engine.containers[resource.name] = { Status: "exited", Running: false, ExitCode: ok ? 0 : 1 };
      done(resource);
      if (!ok) {
        return {
          changes,
          error:
            `The migrations failed: container ${resource.name} exited with code 1. See \`docker logs ${resource.name}\`, ` +
            'fix the cause, then run them again (password authentication failed for user "newsletter")',
        };
      }
      continue;
    } else if (resource.name === names.app) {
      const healthy = engine.volumes[names.volume]?.initialisedWith === plan.password;
      engine.containers[resource.name] = {
        Status: "running",
        Running: true,
        ExitCode: 0,
        Health: { Status: healthy ? "healthy" : "unhealthy" },
      };
      if (!healthy) {
        done(resource);
        return { changes, error: "container failed to be in healthy state" };
      }
    }
    done(resource);
  }
  return { changes };
}

function destroyResources(engine: EngineState, record: StackRecord): Record<string, number> {
  let deleted = 0;
  for (const resource of [...record.resources].reverse()) {
    deleted += 1;
    if (resource.type === "docker:index/volume:Volume") {
      // retainOnDelete: the engine drops it from the state and leaves it in Docker.
      if (resource.retainOnDelete !== true) delete engine.volumes[resource.name];
    } else {
      delete engine.containers[resource.name];
    }
  }
  record.resources = [];
  record.outputs = {};
  return deleted > 0 ? { delete: deleted } : {};
}

// ---- engine events over gRPC --------------------------------------------------------------------------------------

async function sendEvents(eventLog: string | undefined, events: object[]): Promise<void> {
  if (eventLog === undefined) return;
  if (!eventLog.startsWith("tcp://"))
    throw new CliError(`the stand-in sends events only over gRPC, not to ${eventLog}`);
  const require = createRequire(__filename);
  const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
  const services = require("@pulumi/pulumi/proto/events_grpc_pb") as {
    EventsClient: new (
      address: string,
      credentials: unknown,
    ) => {
      streamEvents(callback: (error: Error | null) => void): { write(r: unknown): void; end(): void };
      close(): void;
    };
  };
  const messages = require("@pulumi/pulumi/proto/events_pb") as {
    EventRequest: new () => { setEvent(value: string): void };
  };
  const client = new services.EventsClient(eventLog.slice("tcp://".length), grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => {
    const stream = client.streamEvents((error) => (error ? reject(error) : resolve()));
    events.forEach((event, sequence) => {
      const request = new messages.EventRequest();
      request.setEvent(JSON.stringify({ sequence, timestamp: Math.floor(Date.now() / 1000), ...event }));
      stream.write(request);
    });
    stream.end();
  });
  client.close();
}

const urnOf = (stack: string, r: ResourceRecord) =>
  `urn:pulumi:${stack}::${project.name}::newsletter:infra:LocalDeployment$${r.type}::${r.name}`;

// ---- commands -------------------------------------------------------------------------------------------------------

const out = (text: string): void => {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
};

function stackName(args: Args, fromWords = false): string {
  const stack = args.flags.get("--stack") ?? (fromWords ? args.words[2] : undefined);
  if (stack === undefined) throw new CliError("no stack selected; please use `pulumi stack select`", 2);
  return stack;
}

function historyEntry(
  record: StackRecord,
  kind: UpdateRecord["kind"],
  started: Date,
  changes: Record<string, number>,
  ok: boolean,
) {
  record.history.unshift({
    version: record.history.length + 1,
    kind,
    startTime: started.toISOString(),
    endTime: new Date().toISOString(),
    result: ok ? "succeeded" : "failed",
    resourceChanges: changes,
  });
}

async function run(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const [command, sub] = args.words;
  switch (command) {
    case "version":
      return void out(STANDIN_VERSION);
    case "whoami":
      return void out(
        args.flags.has("--json")
          ? JSON.stringify({ user: "standin", organizations: [], url: process.env.PULUMI_BACKEND_URL })
          : "standin",
      );
    case "stack":
      return stackCommand(args, sub);
    case "config":
      return configCommand(args, sub);
    case "up":
    case "preview":
      return update(args, command);
    case "destroy": {
      const stack = stackName(args);
      const record = requireStack(stack);
      const engine = loadEngine(engineFile());
      const started = new Date();
      const changes = destroyResources(engine, record);
      saveEngine(engineFile(), engine);
      historyEntry(record, "destroy", started, changes, true);
      writeStack(stack, record);
      return void out(
        `Destroying (${stack}):\n\nResources:\n    - ${changes.delete ?? 0} deleted\n\nThe resources in the stack have been deleted, but the history and configuration associated with the stack are still maintained.`,
      );
    }
    default:
      throw new CliError(`unknown command "${command ?? ""}" for "pulumi"`, 2);
  }
}

function stackCommand(args: Args, sub: string | undefined): void {
  switch (sub) {
    case "select": {
      requireStack(stackName(args, true));
      return;
    }
    case "init": {
      const stack = args.words[2] ?? stackName(args);
      if (readStack(stack) !== undefined) throw new CliError(`stack '${stack}' already exists`);
      const settings = readSettings(stack);
      if ((args.flags.get("--secrets-provider") ?? "passphrase") === "passphrase") {
        crypter(stack, settings, true);
        writeSettings(stack, settings);
      }
      writeStack(stack, { tags: {}, resources: [], outputs: {}, history: [] });
      return void out(`Created stack '${stack}'`);
    }
    case "rm": {
      const stack = args.words[2] ?? stackName(args);
      const record = requireStack(stack);
      if (record.resources.length > 0 && !args.flags.has("--force")) {
        throw new CliError(
          `'${stack}' still has resources; removal rejected. Possible actions:\n` +
            `- Make sure that '${stack}' is the stack that you want to destroy\n` +
            "- Run `pulumi destroy` to delete the resources, then run `pulumi stack rm`\n" +
            `- Run \`pulumi stack rm --force\` to override this error`,
        );
      }
      rmSync(stackFile(stack));
      if (!args.flags.has("--preserve-config")) rmSync(settingsFile(stack), { force: true });
      return void out(`Stack '${stack}' has been removed!`);
    }
    case "ls": {
      const dir = backendDir();
      const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
      const list = names.map((file) => {
        const name = file.slice(0, -".json".length);
        const record = readStack(name) as StackRecord;
        return {
          name,
          current: false,
          ...(record.history[0] ? { lastUpdate: record.history[0].endTime } : {}),
          updateInProgress: false,
          resourceCount: record.resources.length,
        };
      });
      return void out(JSON.stringify(list, null, 4));
    }
    case "tag": {
      const stack = stackName(args);
      const record = requireStack(stack);
      if (args.words[2] === "ls") return void out(JSON.stringify(record.tags, null, 4));
      if (args.words[2] === "set" && args.words[3] !== undefined && args.words[4] !== undefined) {
        record.tags[args.words[3]] = args.words[4];
        return void writeStack(stack, record);
      }
      throw new CliError(`stand-in: stack tag ${args.words.slice(2).join(" ")} is not modelled`, 2);
    }
    case "output": {
      const record = requireStack(stackName(args));
      return void out(JSON.stringify(record.outputs, null, 2));
    }
    case "history": {
      const record = requireStack(stackName(args));
      const size = Number(args.flags.get("--page-size") ?? record.history.length);
      const page = Number(args.flags.get("--page") ?? 1);
      return void out(JSON.stringify(record.history.slice((page - 1) * size, page * size), null, 4));
    }
    default:
      throw new CliError(`stand-in: stack ${sub ?? ""} is not modelled`, 2);
  }
}

function configCommand(args: Args, sub: string | undefined): void {
  const stack = stackName(args);
  requireStack(stack);
  if (sub === undefined) {
    if (!args.flags.has("--json")) throw new CliError("stand-in: only `config --json` is modelled", 2);
    const entries = effectiveConfig(stack);
    const show = args.flags.has("--show-secrets");
    const listing = Object.fromEntries(
      Object.keys(entries)
        .sort()
        .map((key) => {
          const entry = entries[key] as ConfigEntry;
          return [key, entry.secret && !show ? { secret: true } : { value: entry.value, secret: entry.secret }];
        }),
    );
    return void out(JSON.stringify(listing, null, 4));
  }
  if (sub === "get") {
    const key = args.words[2] as string;
    const entry = effectiveConfig(stack)[key];
    const pretty = key.startsWith(`${project.name}:`) ? key.slice(project.name.length + 1) : key;
    if (entry === undefined) throw new CliError(`configuration key '${pretty}' not found for stack '${stack}'`);
    return void out(JSON.stringify({ value: entry.value, secret: entry.secret }, null, 2));
  }
  if (sub === "set") {
    const key = args.words[2];
    const value = args.afterDashes[0] ?? args.words[3];
    if (key === undefined || value === undefined) throw new CliError("config set needs a key and a value", 2);
    const settings = readSettings(stack);
    settings.config ??= {};
    if (args.flags.has("--secret")) {
      const cryptoKey = crypter(stack, settings, true);
      settings.config[key] = { secure: encrypt(cryptoKey, value) };
    } else {
      settings.config[key] = value;
    }
    return void writeSettings(stack, settings);
  }
  throw new CliError(`stand-in: config ${sub} is not modelled`, 2);
}

async function update(args: Args, command: "up" | "preview"): Promise<void> {
  const stack = stackName(args);
  const record = requireStack(stack);
  const started = new Date();
  out(`${command === "up" ? "Updating" : "Previewing update"} (${stack}):`);
  const plan = await program(stack);
  if (command === "preview") {
    const steps = stepsFor(record, plan);
    const counts: Record<string, number> = {};
    for (const step of steps) counts[step.op] = (counts[step.op] ?? 0) + 1;
    await sendEvents(args.flags.get("--event-log"), [
      ...steps.map((step) => ({
        resourcePreEvent: {
          metadata: { op: step.op, urn: urnOf(stack, step.resource), type: step.resource.type, provider: "" },
        },
      })),
      { summaryEvent: { maybeCorrupt: false, durationSeconds: 0, resourceChanges: counts, policyPacks: {} } },
      { cancelEvent: {} },
    ]);
    return void out(
      `Resources:\n${Object.entries(counts)
        .map(([op, n]) => `    ${n} to ${op}`)
        .join("\n")}`,
    );
  }
  const engine = loadEngine(engineFile());
  const result = apply(engine, record, plan);
  saveEngine(engineFile(), engine);
  if (result.error === undefined) record.outputs = plan.outputs;
  historyEntry(record, "update", started, result.changes, result.error === undefined);
  writeStack(stack, record);
  if (result.error !== undefined) throw new CliError(result.error);
  out(
    `Outputs:\n    url: "${plan.outputs.url}"\n\nResources:\n${Object.entries(result.changes)
      .map(([op, n]) => `    ${n} ${op}`)
      .join("\n")}`,
  );
}

run(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof CliError;
  process.stderr.write(`error: ${known ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exitCode = known ? error.code : 255;
});
