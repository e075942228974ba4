// The Docker engine as the stand-in Pulumi CLI's program and the `docker` commands of the ops CLI see it: volumes (with
// the password Postgres initialised them with) and containers (with their state and health). One model, kept in one
// JSON file, that the stand-in `pulumi` (which emulates what the local stack's program does to the engine) and the
// stand-in `docker` (which answers what ops asks: `info`, `volume inspect`, `inspect`) both read and write, and that
// tests load in memory. Only the answers ops and the local stack depend on are modelled; each cites its source.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export interface ContainerState {
  /** `docker inspect`'s `.State.Status`: created, running, exited, dead. */
  Status: "running" | "exited" | "dead";
  Running: boolean;
  ExitCode: number;
  /** Present only for containers with a health check (Docker's `.State.Health`). */
  Health?: { Status: "starting" | "healthy" | "unhealthy" };
}

export interface EngineState {
  running: boolean;
  /** Volume name → the password the Postgres in it was initialised with (empty until a Postgres first starts). */
  volumes: Record<string, { initialisedWith?: string }>;
  containers: Record<string, ContainerState>;
}

export interface CliAnswer {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const emptyEngine = (): EngineState => ({ running: true, volumes: {}, containers: {} });

export function loadEngine(file: string): EngineState {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as EngineState) : emptyEngine();
}

export function saveEngine(file: string, state: EngineState): void {
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

// The docker CLI's own messages (docker/cli 20.10: cli/command/system/info.go prints the daemon error and exits 1;
// `inspect` of a missing object prints "Error: No such object: <name>", `volume inspect` "Error: No such volume: <name>").
const DAEMON_DOWN =
  "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n";

/** The `docker` commands ops runs (ops/prerequisites.ts, ops/commands.ts), answered as docker 20.10 does. */
export function dockerCli(state: EngineState, args: readonly string[]): CliAnswer {
  const fail = (stderr: string): CliAnswer => ({ code: 1, stdout: "", stderr });
  if (!state.running) return fail(DAEMON_DOWN);
  const format = args.includes("--format") ? args[args.indexOf("--format") + 1] : undefined;
  const names = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--format");
  switch (names[0]) {
    case "info":
      if (format === "{{.ServerVersion}}") return { code: 0, stdout: "20.10.24\n", stderr: "" };
      break;
    case "volume": {
      const name = names[2];
      if (names[1] !== "inspect" || name === undefined) break;
      if (!(name in state.volumes)) return fail(`Error: No such volume: ${name}\n`);
      if (format === "{{.Name}}") return { code: 0, stdout: `${name}\n`, stderr: "" };
      break;
    }
    case "inspect": {
      const name = names[1];
      if (name === undefined) break;
      const container = state.containers[name];
      if (container === undefined) return fail(`Error: No such object: ${name}\n`);
      if (format === "{{json .State}}") return { code: 0, stdout: `${JSON.stringify(container)}\n`, stderr: "" };
      break;
    }
  }
  return fail(`stand-in docker: no answer modelled for \`docker ${args.join(" ")}\`\n`);
}
