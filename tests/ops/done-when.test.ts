// The README's first command and what follows it, end to end through the real ops CLI and the real Automation API,
// on a machine whose `pulumi` and `docker` are the stand-ins (tests/support/pulumi-standin): the CLI behaves as
// v3.248.0 does (project defaults in config listings, `stack rm` deleting the stack file), and the emulated engine
// keeps a Postgres volume that accepts only the password it was initialised with, so a lost or regenerated password
// fails the migrations as it would on a real engine.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { type Standin, standin } from "../support/pulumi-standin";

const REPO_ROOT = path.resolve(__dirname, "../..");
const VOLUME = "newsletter-local-pgdata";
const APP = "newsletter-local-app";

let repo: string;
let fake: Standin;

/**
 * A checkout of what `npm run up:local` needs (the ops CLI, the infra modules it reads, Pulumi.yaml), so that the
 * test's stack files and file backend never touch the developer's own local stack in this repository.
 */
function checkout(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "done-when-"));
  for (const entry of ["package.json", "Pulumi.yaml", "tsconfig.json", "ops", "infra"]) {
    cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly out: string;
}

/** Runs a program without blocking this worker (a synchronous spawn would stall vitest's own messages for minutes). */
function run(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: repo, env, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, out: `${stdout}${stderr}` });
    });
  });
}

const npm = (...args: string[]): Promise<Run> => run("npm", ["run", "--silent", ...args], fake.env);

/** The password in Pulumi.local.yaml, as the CLI decrypts it. */
async function storedPassword(): Promise<string> {
  const got = await run("pulumi", ["config", "get", "newsletter:localPostgresPassword", "--json", "--stack", "local"], {
    ...fake.env,
    PULUMI_BACKEND_URL: `file://${path.join(repo, ".pulumi-state")}`,
    PULUMI_CONFIG_PASSPHRASE: "newsletter-local-only",
  });
  expect(got.code, got.out).toBe(0);
  return (JSON.parse(got.stdout) as { value: string }).value;
}

beforeEach(() => {
  repo = checkout();
  fake = standin();
  return () => rmSync(repo, { recursive: true, force: true });
});

describe("the README's local stack commands against the stand-in Pulumi CLI", () => {
  it("up:local, down:local, up:local, destroy local --remove --yes, up:local each exit 0 with one password and one volume", async () => {
    const steps: [string, string[]][] = [
      ["up:local", []],
      ["down:local", []],
      ["up:local", []],
      ["ops", ["--", "destroy", "local", "--remove", "--yes"]],
      ["up:local", []],
    ];
    for (const [script, args] of steps) {
      const step = await npm(script, ...args);
      expect(step.code, `npm run ${script} ${args.join(" ")}:\n${step.out}`).toBe(0);
    }
    const engine = fake.engine();
    expect(engine.volumes[VOLUME]?.initialisedWith).toBe(await storedPassword());
    expect(engine.containers["newsletter-local-migrate"]).toMatchObject({ ExitCode: 0 });
    expect(engine.containers[APP]?.Health).toEqual({ Status: "healthy" });
  }, 900_000);

  it("fails up:local (exit 1) when the app turned unhealthy and the update did not recreate it", async () => {
    expect((await npm("up:local")).code).toBe(0);
    const engine = fake.engine();
    const app = engine.containers[APP];
    if (app === undefined) throw new Error("no app container after up:local");
    app.Health = { Status: "unhealthy" };
    fake.setEngine(engine);
    const again = await npm("up:local");
    expect(again.code, again.out).toBe(1);
    expect(again.out).toContain(`error: the app container ${APP} is not healthy after the update`);
  }, 900_000);
});
