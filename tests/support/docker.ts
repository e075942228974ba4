// The real Docker engine, for tests that build and run the image. Off CI, a machine without an engine skips these
// tests with the reason; with REQUIRE_DOCKER=1 (set by .ci/run) a missing engine fails them instead.
import { execFileSync } from "node:child_process";
import { describe, it } from "vitest";
import { dockerBin } from "./docker-cli";

// The client helpers live in ./docker-cli.ts (no vitest there, so bench scripts use them too).
export {
  baseImageBuildArgs,
  buildFromProgramSettings,
  buildImage,
  cacheMountIds,
  docker,
  dockerRaw,
  officialBaseImage,
  type ProgramBuildSettings,
  pruneCacheMountsSince,
  removeQuietly,
  withOwnNpmCache,
} from "./docker-cli";

function engineProblem(): string | undefined {
  try {
    execFileSync(dockerBin, ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 15_000 });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return `no Docker engine answers \`${dockerBin} info\` (${detail}); start one, or see .ci/run for how CI does`;
  }
  // The Dockerfile needs BuildKit (RUN --mount). A client without it (a new CLI with no buildx plugin) fails every
  // build: find out with the smallest build there is, which needs no base image and no network.
  try {
    const probe = execFileSync(dockerBin, ["build", "-q", "-"], {
      input: "FROM scratch\nLABEL probe=buildkit\n",
      env: { ...process.env, DOCKER_BUILDKIT: "1" },
      stdio: "pipe",
      timeout: 60_000,
    });
    execFileSync(dockerBin, ["rmi", probe.toString().trim()], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split("\n")[0];
    return `\`${dockerBin}\` can't run BuildKit builds (${stderr || "failed"}); set DOCKER to a client that can`;
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
