// ops/pulumi.ts, the Automation API boundary, for real: @pulumi/pulumi/automation builds its arguments, runs
// `pulumi` and parses what it prints, with the stand-in CLI (tests/support/pulumi-standin) first on PATH. The stand-in
// answers as Pulumi CLI v3.248.0 does on a file backend: project defaults in config listings, the stack file deleted by
// `stack rm`, the Automation API's error texts, engine events over gRPC.
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackEnvironment } from "../../ops/backend";
import { OpsError } from "../../ops/errors";
import { openWorkspace, type PulumiWorkspace } from "../../ops/pulumi";
import { parseStackRef } from "../../ops/stacks";
import { type Standin, standin } from "../support/pulumi-standin";

const REPO_ROOT = path.resolve(__dirname, "../..");
const PASSWORD_KEY = "newsletter:localPostgresPassword";
// Each command is a process that loads TypeScript, and `up` and `preview` load infra/config.ts: give them room.
const SLOW = 300_000;

let fake: Standin;
let workDir: string;
let savedEnv: NodeJS.ProcessEnv;
let output = "";

async function workspace(): Promise<PulumiWorkspace> {
  const env = stackEnvironment(parseStackRef("local"), {}, workDir);
  return openWorkspace({
    workDir,
    envVars: env.envVars,
    secretsProvider: env.secretsProvider,
    onOutput: (text) => {
      output += text;
    },
  });
}

beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), "ops-pulumi-"));
  copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  fake = standin();
  // The Automation API runs the `pulumi` it finds on this process's PATH (sdk/nodejs/automation/cmd.ts,
  // PulumiCommand.get), so the stand-in goes there, with the engine model it and `docker` share.
  savedEnv = { ...process.env };
  process.env.PATH = fake.env.PATH;
  process.env.STANDIN_DOCKER_STATE = fake.engineFile;
});

afterAll(() => {
  process.env = savedEnv;
});

describe("ops/pulumi.ts against the stand-in Pulumi CLI", () => {
  it(
    "creates a stack, lists Pulumi.yaml's empty default for a key it never set, and stores a secret encrypted",
    async () => {
      const ws = await workspace();
      expect(await ws.select("local")).toBeUndefined();
      const stack = await ws.createOrSelect("local");
      expect(await stack.configValue(PASSWORD_KEY)).toBe("");
      expect(await stack.configValue("newsletter:localPort")).toBe("8000");
      expect(await stack.configValue("newsletter:noSuchKey")).toBeUndefined();
      await stack.setSecretConfig(PASSWORD_KEY, "s3cret-value");
      expect(await stack.configValue(PASSWORD_KEY)).toBe("s3cret-value");
      const file = readFileSync(path.join(workDir, "Pulumi.local.yaml"), "utf8");
      expect(file).toMatch(/newsletter:localPostgresPassword:\n\s+secure: v1:/);
      expect(file).not.toContain("s3cret-value");
    },
    SLOW,
  );

  it(
    "previews through the engine events, deploys, reads outputs, tags, lists and destroys",
    async () => {
      const ws = await workspace();
      const stack = await ws.createOrSelect("local");
      const plan = await stack.preview({ diff: false });
      expect(plan.changeSummary).toEqual({ create: 4 });
      expect(plan.steps.map((s) => [s.op, s.type])).toEqual([
        ["create", "docker:index/volume:Volume"],
        ["create", "docker:index/container:Container"],
        ["create", "docker:index/container:Container"],
        ["create", "docker:index/container:Container"],
      ]);
      const outputs = await stack.up();
      expect(outputs.url).toEqual({ value: "http://127.0.0.1:8000", secret: false });
      expect(output).toContain("Updating (local):"); // streamed as it arrived
      expect(await stack.outputs()).toEqual(outputs);
      await stack.setTags({ "review:pr": "7" });
      expect(await stack.listTags()).toEqual({ "review:pr": "7" });
      expect(await ws.listStacks()).toEqual([
        { name: "local", lastUpdate: expect.any(String), updateInProgress: false, resourceCount: 4 },
      ]);
      expect(fake.engine().volumes["newsletter-local-pgdata"]).toEqual({ initialisedWith: "s3cret-value" });
      await stack.destroy({ remove: false });
      expect(fake.engine().containers).toEqual({});
      expect(await stack.outputs()).toEqual({});
    },
    SLOW,
  );

  it(
    "removes the stack with --preserve-config keeping Pulumi.local.yaml, and without it deleting the file",
    async () => {
      const ws = await workspace();
      await (await ws.createOrSelect("local")).destroy({ remove: true, preserveConfig: true });
      expect(await ws.select("local")).toBeUndefined();
      expect(existsSync(path.join(workDir, "Pulumi.local.yaml"))).toBe(true);
      // The next init reuses the kept salt, so the kept secret still decrypts.
      const again = await ws.createOrSelect("local");
      expect(await again.configValue(PASSWORD_KEY)).toBe("s3cret-value");
      await again.destroy({ remove: true });
      expect(existsSync(path.join(workDir, "Pulumi.local.yaml"))).toBe(false);
    },
    SLOW,
  );

  it(
    "turns a failing update into OpsError exit 1 with the CLI's error line",
    async () => {
      const ws = await workspace();
      const stack = await ws.createOrSelect("local");
      const failure = await stack.up().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpsError);
      expect((failure as OpsError).exitCode).toBe(1);
      expect((failure as OpsError).message).toMatch(
        /^pulumi up of stack local failed: error: Running program '.*' failed with an unhandled exception:/,
      );
      await stack.destroy({ remove: true });
    },
    SLOW,
  );
});
