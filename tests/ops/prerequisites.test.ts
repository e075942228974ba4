import { describe, expect, it } from "vitest";
import { ExitCode, OpsError } from "../../ops/errors";
import {
  checkPrerequisites,
  dockerProblem,
  type Probe,
  type ProbeResult,
  parseVersion,
  pulumiProblem,
} from "../../ops/prerequisites";
import { failing, missing, ok } from "./fakes";

function probe(results: Record<string, ProbeResult>): Probe & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (command, args) => {
      calls.push(`${command} ${args.join(" ")}`);
      const result = results[command];
      if (result === undefined) throw new Error(`unexpected probe ${command}`);
      return result;
    },
  };
}

async function failure(run: Promise<void>): Promise<OpsError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError);
    return error as OpsError;
  }
  throw new Error("expected the check to fail");
}

describe("pulumiProblem", () => {
  it("names a missing Pulumi CLI and how to install it", () => {
    expect(pulumiProblem(missing)).toBe(
      "The Pulumi CLI is not installed (no `pulumi` on PATH): install it with `curl -fsSL https://get.pulumi.com | sh` " +
        "(macOS: `brew install pulumi/tap/pulumi`; Windows and others: https://www.pulumi.com/docs/install/), " +
        "open a new terminal so that it is on PATH, and run this again.",
    );
  });

  it("asks for an upgrade when the CLI is older than the command needs", () => {
    expect(pulumiProblem(ok("v3.200.1\n"), "3.211.0")).toMatch(
      /^The Pulumi CLI is v3\.200\.1, older than 3\.211\.0 which this command needs: upgrade it; install it with/,
    );
    expect(pulumiProblem(ok("v3.211.0"), "3.211.0")).toBeUndefined();
    expect(pulumiProblem(ok("v4.0.0"), "3.211.0")).toBeUndefined();
  });

  it("reports a CLI that does not run", () => {
    expect(pulumiProblem(failing("segmentation fault", 139))).toMatch(
      /^The Pulumi CLI did not run \(`pulumi version` exited 139: segmentation fault\)/,
    );
  });

  it("reads versions with and without the v", () => {
    expect(parseVersion("v3.248.0")).toEqual([3, 248, 0]);
    expect(parseVersion("3.211.0-alpha.1")).toEqual([3, 211, 0]);
    expect(parseVersion("dev")).toBeUndefined();
  });
});

describe("dockerProblem", () => {
  it("names a missing Docker and where to get it", () => {
    expect(dockerProblem(missing)).toBe(
      "Docker is not installed (no `docker` command): install Docker Desktop or Docker Engine (https://docs.docker.com/get-started/get-docker/), start it, and run this again.",
    );
  });

  it("says the engine is not running, with Docker's own words and how to start it", () => {
    expect(
      dockerProblem(
        failing("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"),
      ),
    ).toBe(
      "The Docker engine is not running (`docker info` could not reach it: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start Docker Desktop, or on Linux `sudo systemctl start docker`, wait until `docker info` answers, and run this again.",
    );
  });

  it("tells a user without access to the socket to join the docker group", () => {
    expect(dockerProblem(failing("permission denied while trying to connect to the Docker daemon socket"))).toMatch(
      /sudo usermod -aG docker \$USER/,
    );
  });

  it("is content with an engine that answers", () => {
    expect(dockerProblem(ok("27.3.1"))).toBeUndefined();
  });
});

describe("checkPrerequisites", () => {
  it("lists every missing prerequisite in one error with exit code 3", async () => {
    const error = await failure(
      checkPrerequisites(probe({ pulumi: missing, docker: failing("Cannot connect to the Docker daemon") }), {
        pulumi: true,
        docker: true,
      }),
    );
    expect(error.exitCode).toBe(ExitCode.prerequisite);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe("Missing prerequisites:");
    expect(lines[1]).toMatch(/^ {2}- The Pulumi CLI is not installed/);
    expect(lines[2]).toMatch(/^ {2}- The Docker engine is not running/);
    expect(lines).toHaveLength(3);
  });

  it("asks only for what the command needs", async () => {
    const p = probe({ pulumi: ok() });
    await checkPrerequisites(p, { pulumi: true, docker: false });
    expect(p.calls).toEqual(["pulumi version"]);
  });

  it("passes when everything answers", async () => {
    const p = probe({ pulumi: ok(), docker: ok("27.3.1") });
    await expect(
      checkPrerequisites(p, { pulumi: true, docker: true, minimumPulumi: "3.211.0" }),
    ).resolves.toBeUndefined();
    expect(p.calls).toEqual(["pulumi version", "docker info --format {{.ServerVersion}}"]);
  });
});

describe("systemProbe", () => {
  it("tells a program that is not installed from one that fails", async () => {
    const { systemProbe } = await import("../../ops/prerequisites");
    expect(await systemProbe.run("newsletter-no-such-program", ["version"])).toMatchObject({ missing: true });
    expect(await systemProbe.run(process.execPath, ["-e", "console.error('boom'); process.exit(3)"])).toEqual({
      missing: false,
      exitCode: 3,
      stdout: "",
      stderr: "boom\n",
    });
    expect(await systemProbe.run(process.execPath, ["--version"])).toMatchObject({
      missing: false,
      exitCode: 0,
      stdout: `${process.version}\n`,
    });
  });
});
