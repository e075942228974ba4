// What must be on the machine before a command can work, checked up front so that a newcomer sees what is missing
// and how to fix it, not a stack trace from deep inside the Automation API. The probe runs programs; the checks are
// plain functions of what it reports, so tests drive them with a fake probe.
import { execFile } from "node:child_process";
import { ExitCode, OpsError } from "./errors";

export interface ProbeResult {
  /** The program is not installed (ENOENT). */
  readonly missing: boolean;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Probe {
  run(command: string, args: readonly string[]): Promise<ProbeResult>;
}

export const systemProbe: Probe = {
  run: (command, args) =>
    new Promise((resolve) => {
      execFile(command, [...args], { timeout: 20_000 }, (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        resolve({
          missing: code === "ENOENT",
          exitCode: error === null ? 0 : typeof code === "number" ? code : 1,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      });
    }),
};

export interface Requirements {
  readonly pulumi: boolean;
  /** Lowest Pulumi CLI version the command works with, e.g. 3.211.0 for stack tags on a self-managed backend. */
  readonly minimumPulumi?: string;
  readonly docker: boolean;
}

const PULUMI_INSTALL =
  "install it with `curl -fsSL https://get.pulumi.com | sh` (macOS: `brew install pulumi/tap/pulumi`; " +
  "Windows and others: https://www.pulumi.com/docs/install/), open a new terminal so that it is on PATH, and run this again";

/** `v3.248.0` / `3.248.0-alpha.x` → [3, 248, 0]. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])];
}

function older(have: [number, number, number], need: [number, number, number]): boolean {
  for (let i = 0; i < 3; i += 1) {
    if ((have[i] ?? 0) !== (need[i] ?? 0)) return (have[i] ?? 0) < (need[i] ?? 0);
  }
  return false;
}

export function pulumiProblem(result: ProbeResult, minimum?: string): string | undefined {
  if (result.missing) return `The Pulumi CLI is not installed (no \`pulumi\` on PATH): ${PULUMI_INSTALL}.`;
  if (result.exitCode !== 0) {
    return `The Pulumi CLI did not run (\`pulumi version\` exited ${result.exitCode}: ${firstLine(result.stderr)}): reinstall it; ${PULUMI_INSTALL}.`;
  }
  const need = minimum === undefined ? undefined : parseVersion(minimum);
  const have = parseVersion(result.stdout);
  if (need !== undefined && have !== undefined && older(have, need)) {
    return `The Pulumi CLI is ${result.stdout.trim()}, older than ${minimum} which this command needs: upgrade it; ${PULUMI_INSTALL}.`;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.trim() || "no message";
}

export function dockerProblem(result: ProbeResult): string | undefined {
  if (result.missing) {
    return "Docker is not installed (no `docker` command): install Docker Desktop or Docker Engine (https://docs.docker.com/get-started/get-docker/), start it, and run this again.";
  }
  if (result.exitCode === 0) return undefined;
  if (/permission denied/i.test(result.stderr)) {
    return `Docker is running but this user may not use it (${firstLine(result.stderr)}): on Linux add yourself to the docker group (\`sudo usermod -aG docker $USER\`), log in again, and run this again.`;
  }
  return `The Docker engine is not running (\`docker info\` could not reach it: ${firstLine(result.stderr)}): start Docker Desktop, or on Linux \`sudo systemctl start docker\`, wait until \`docker info\` answers, and run this again.`;
}

/** Every missing prerequisite at once, as one error with one line per problem. */
export async function checkPrerequisites(probe: Probe, needs: Requirements): Promise<void> {
  const problems: string[] = [];
  if (needs.pulumi) {
    const problem = pulumiProblem(await probe.run("pulumi", ["version"]), needs.minimumPulumi);
    if (problem !== undefined) problems.push(problem);
  }
  if (needs.docker) {
    const problem = dockerProblem(await probe.run("docker", ["info", "--format", "{{.ServerVersion}}"]));
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length > 0) {
    throw new OpsError(
      ["Missing prerequisites:", ...problems.map((p) => `  - ${p}`)].join("\n"),
      ExitCode.prerequisite,
    );
  }
}
