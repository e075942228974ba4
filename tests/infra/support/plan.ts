// What `pulumi preview` would list for a run of the program, given the run before it as the stack's state. The
// engine diffs each custom resource's new inputs against the ones it recorded (pulumi/pulumi
// pkg/resource/deploy/step_generator.go), asks the provider for the diff where it has one, and deletes what the
// program no longer registers. Here: inputs compared as plain values; docker.Image's registry login left out, as its
// provider's Diff does (pulumi-docker provider/provider.go, diffUpdates: only `registry.server` counts); a changed
// `replacementTrigger` replaces. Components and the stack itself are never shown as changing.
import { isDeepStrictEqual } from "node:util";
import type { ProgramRun, RecordedResource } from "./pulumi-program";

export type StepOp = "create" | "update" | "replace" | "delete";

export interface Step {
  readonly op: StepOp;
  readonly type: string;
  readonly name: string;
}

const key = (r: RecordedResource) => `${r.type}::${r.name}`;

function comparable(resource: RecordedResource): Record<string, unknown> {
  if (resource.type !== "docker:index/image:Image") return resource.inputs;
  const registry = resource.inputs.registry as Record<string, unknown> | undefined;
  return { ...resource.inputs, registry: registry === undefined ? undefined : { server: registry.server } };
}

export function plan(state: ProgramRun, next: ProgramRun): Step[] {
  const before = new Map(state.resources.filter((r) => r.custom).map((r) => [key(r), r]));
  const steps: Step[] = [];
  for (const resource of next.resources.filter((r) => r.custom)) {
    const old = before.get(key(resource));
    before.delete(key(resource));
    const step = { type: resource.type, name: resource.name };
    if (old === undefined) steps.push({ op: "create", ...step });
    else if (!isDeepStrictEqual(old.replacementTrigger, resource.replacementTrigger))
      steps.push({ op: "replace", ...step });
    else if (!isDeepStrictEqual(comparable(old), comparable(resource))) steps.push({ op: "update", ...step });
  }
  for (const old of before.values()) steps.push({ op: "delete", type: old.type, name: old.name });
  return steps;
}

const SYMBOL: Record<StepOp, string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** The steps as the CLI's preview lists them, with its closing count. */
export function formatPlan(steps: readonly Step[], next: ProgramRun): string {
  const unchanged = next.resources.filter((r) => r.custom).length - steps.filter((s) => s.op !== "delete").length;
  const lines = steps.map((s) => `  ${SYMBOL[s.op].padEnd(3)}${s.type}  ${s.name}  ${s.op}`);
  const counts = (["create", "update", "replace", "delete"] as const)
    .map((op) => [op, steps.filter((s) => s.op === op).length] as const)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `    ${SYMBOL[op]} ${n} to ${op}`);
  return [...lines, "Resources:", ...counts, `    ${unchanged} unchanged`].join("\n");
}
