// The real Docker engine, for tests that build and run the image. Off CI, a machine without an engine skips these
// tests with the reason; with REQUIRE_DOCKER=1 (set by .ci/run) a missing engine fails them instead.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { describe, it } from "vitest";

const run = promisify(execFile);

/** The client to use: `DOCKER` (set by .ci/run to one with BuildKit built in), else `docker` on PATH. */
export const dockerBin = process.env.DOCKER ?? "docker";

function engineProblem(): string | undefined {
  try {
    execFileSync(dockerBin, ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 15_000 });
    return undefined;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return `no Docker engine answers \`${dockerBin} info\` (${detail}); start one, or see .ci/run for how CI does`;
  }
}

const problem = engineProblem();

/** `describe` for tests that need a Docker engine: skipped with a reason, or failed under REQUIRE_DOCKER=1. */
export function describeWithDocker(name: string, body: () => void): void {
  if (problem === undefined) {
    describe(name, body);
  } else if (process.env.REQUIRE_DOCKER === "1") {
    describe(name, () => {
      it("has a Docker engine (REQUIRE_DOCKER=1)", () => {
        throw new Error(problem);
      });
    });
  } else {
    console.warn(`[skipped] ${name}: ${problem}`);
    describe.skip(`${name} [skipped: ${problem}]`, body);
  }
}

/**
 * Base-image overrides for `docker build`. On a normal machine none are set and the Dockerfile's official defaults
 * are pulled; where no registry is reachable, .ci/run exports stand-ins (STANDIN_BUILD_IMAGE, STANDIN_RUNTIME_IMAGE).
 */
export function baseImageBuildArgs(): Record<string, string> {
  const args: Record<string, string> = {};
  if (process.env.STANDIN_BUILD_IMAGE) args.BUILD_IMAGE = process.env.STANDIN_BUILD_IMAGE;
  if (process.env.STANDIN_RUNTIME_IMAGE) args.RUNTIME_IMAGE = process.env.STANDIN_RUNTIME_IMAGE;
  return args;
}

/** Run the Docker client; rejects with its stderr on a non-zero exit. */
export async function docker(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await run(dockerBin, args, {
    env: { ...process.env, DOCKER_BUILDKIT: "1" },
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeoutMs ?? 600_000,
  });
  return stdout.trim();
}
