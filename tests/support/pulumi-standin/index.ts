// For tests: a directory with the stand-in `pulumi` and `docker` first on PATH, a fresh engine model, and the
// environment that points both at it. See pulumi.ts and engine.ts for what they answer, and from which sources.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type EngineState, loadEngine, saveEngine } from "./engine";

export const STANDIN_BIN = path.join(__dirname, "bin");

export interface Standin {
  /** Environment for a process that should find the stand-ins: PATH first, then the engine model's file. */
  readonly env: Record<string, string>;
  readonly engineFile: string;
  engine(): EngineState;
  setEngine(state: EngineState): void;
}

export function standin(base: Record<string, string | undefined> = process.env): Standin {
  const engineFile = path.join(mkdtempSync(path.join(tmpdir(), "pulumi-standin-")), "docker-engine.json");
  return {
    env: {
      ...(Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>),
      PATH: `${STANDIN_BIN}${path.delimiter}${base.PATH ?? ""}`,
      STANDIN_DOCKER_STATE: engineFile,
    },
    engineFile,
    engine: () => loadEngine(engineFile),
    setEngine: (state) => saveEngine(engineFile, state),
  };
}
