// The corners of the preview summary (ops/preview-summary.ts): which resources raise the data-loss warning, when
// there are changes at all, the cap on the table's rows and the exact point where the diff is cut.
import { describe, expect, it } from "vitest";
import {
  driftedResources,
  foldSteps,
  MAX_COMMENT_LENGTH,
  type PlannedStep,
  STATEFUL_TYPES,
  summarisePreview,
} from "../../ops/preview-summary";

const urn = (type: string, name: string) => `urn:pulumi:pr-7::newsletter::newsletter:infra:Component$${type}::${name}`;
const step = (op: string, type: string, name: string, keys?: string[]): PlannedStep => ({
  op,
  type,
  urn: urn(type, name),
  ...(keys === undefined ? {} : { keys }),
});
const APP = "digitalocean:index/app:App";

/** The summary's markdown for these steps with no diff: its head, which the diff is measured against. */
const headOf = (steps: PlannedStep[]) => summarisePreview({ stack: "pr-7", steps }).markdown;

describe("the data-loss warning", () => {
  const stateful = [
    "digitalocean:index/databaseCluster:DatabaseCluster",
    "digitalocean:index/databaseDb:DatabaseDb",
    "digitalocean:index/containerRegistry:ContainerRegistry",
    "digitalocean:index/spacesBucket:SpacesBucket",
    "digitalocean:index/volume:Volume",
    "docker:index/volume:Volume",
  ];

  it("knows exactly the resource types that hold data", () => {
    expect([...STATEFUL_TYPES].sort()).toEqual([...stateful].sort());
  });

  it.each(stateful.flatMap((type) => [type, type].map((t, i) => [t, i === 0 ? "replace" : "delete"] as const)))(
    "is raised for %s on %s",
    (type, op) => {
      const summary = summarisePreview({ stack: "pr-7", steps: [step(op, type, "data")] });
      expect(summary.stateful).toEqual([{ urn: urn(type, "data"), name: "data", type, kind: op, replaceKeys: [] }]);
      expect(summary.markdown).toContain(`> - **${op}** \`data\` (\`${type}\`)\n`);
    },
  );

  it.each(stateful.flatMap((type) => ["create", "update", "same"].map((op) => [type, op] as const)))(
    "is not raised for %s on %s: nothing is lost",
    (type, op) => {
      const summary = summarisePreview({ stack: "pr-7", steps: [step(op, type, "data")] });
      expect(summary.stateful).toEqual([]);
      expect(summary.markdown).not.toContain("[!CAUTION]");
    },
  );

  it("names every key that forces the replacement, sorted, from all of the resource's steps", () => {
    const cluster = "digitalocean:index/databaseCluster:DatabaseCluster";
    const summary = summarisePreview({
      stack: "pr-7",
      steps: [
        step("create-replacement", cluster, "db", ["size", "region"]),
        step("replace", cluster, "db", ["engine", "region"]),
        step("delete-replaced", cluster, "db"),
      ],
    });
    expect(summary.markdown).toContain(
      `> - **replace** \`db\` (\`${cluster}\`), because \`engine\`, \`region\`, \`size\` changed\n`,
    );
  });
});

describe("folding the engine's ops", () => {
  it.each([
    [["create-replacement"], "replace"],
    [["delete-replaced"], "replace"],
    [["replace"], "replace"],
    [["same", "replace"], "replace"],
    [["import"], "create"],
    [["create"], "create"],
    [["create", "delete"], "create"],
    [["delete"], "delete"],
    [["delete", "update"], "delete"],
    [["update"], "update"],
    [["update", "same"], "update"],
    [["same"], "same"],
  ])("reads %j as %s", (ops, kind) => {
    expect(foldSteps(ops.map((op) => step(op, APP, "app"))).map((c) => c.kind)).toEqual([kind]);
  });

  it.each(["read", "refresh", "discard"])("leaves out a resource that only has %s", (op) => {
    expect(foldSteps([step(op, APP, "app")])).toEqual([]);
  });

  it("leaves out every provider, whatever its package", () => {
    const provider = (pkg: string): PlannedStep => ({
      op: "create",
      type: `pulumi:providers:${pkg}`,
      urn: `urn:pulumi:pr-7::newsletter::pulumi:providers:${pkg}::default`,
    });
    expect(foldSteps([provider("docker"), provider("digitalocean"), step("create", APP, "app")])).toHaveLength(1);
  });
});

describe("hasChanges and the table", () => {
  it.each([
    ["a create", ["create"], true],
    ["an update", ["update"], true],
    ["a delete", ["delete"], true],
    ["a replace", ["replace"], true],
    ["nothing but unchanged resources", ["same"], false],
    ["nothing at all", [], false],
    ["only reads", ["read"], false],
  ])("is %s for %s", (_case, ops, expected) => {
    const steps = ops.map((op, i) => step(op, APP, `app-${i}`));
    expect(summarisePreview({ stack: "pr-7", steps }).hasChanges).toBe(expected);
  });

  it("lists every changed resource up to 60, and leaves unchanged ones out", () => {
    const steps = [
      step("same", APP, "unchanged"),
      ...Array.from({ length: 60 }, (_, i) => step("update", APP, `a${i}`)),
    ];
    const rows = summarisePreview({ stack: "pr-7", steps })
      .markdown.split("\n")
      .filter((l) => l.startsWith("| "));
    expect(rows).toHaveLength(62);
    expect(rows.at(-1)).toBe(`| update | \`a59\` | \`${APP}\` |`);
    expect(rows.join("\n")).not.toContain("unchanged");
  });

  it("cuts the table at 60 rows and says how many more there are", () => {
    const steps = Array.from({ length: 63 }, (_, i) => step("create", APP, `a${i}`));
    const rows = summarisePreview({ stack: "pr-7", steps })
      .markdown.split("\n")
      .filter((l) => l.startsWith("| "));
    expect(rows).toHaveLength(63);
    expect(rows.slice(-2)).toEqual([`| create | \`a59\` | \`${APP}\` |`, "| … | 3 more | |"]);
  });

  it("keeps backticks in names from breaking out of the code spans", () => {
    const summary = summarisePreview({ stack: "pr`7", steps: [step("create", APP, "a`b")] });
    expect(summary.markdown).toContain("### Pulumi preview of `pr'7`");
    expect(summary.markdown).toContain(`| create | \`a'b\` | \`${APP}\` |`);
  });
});

describe("the diff", () => {
  const steps = [step("create", APP, "app")];
  const open = "<details><summary>Full diff (<code>pulumi preview --diff</code>)</summary>\n\n```diff\n";
  const close = "\n```\n\n</details>\n";
  const head = headOf(steps);
  /** The room the summary leaves the diff under `maxLength`: what the head, the fences and a margin of 80 leave. */
  const roomUnder = (maxLength: number) => maxLength - head.length - open.length - close.length - 80;

  it("is shown whole when it fits exactly", () => {
    const diff = "x".repeat(roomUnder(2_000));
    expect(summarisePreview({ stack: "pr-7", steps, diff, maxLength: 2_000 }).markdown).toBe(
      `${head}${open}${diff}${close}`,
    );
  });

  it("is cut one character over, to the room there is, and says so", () => {
    const room = roomUnder(2_000);
    const diff = "y".repeat(room + 1);
    expect(summarisePreview({ stack: "pr-7", steps, diff, maxLength: 2_000 }).markdown).toBe(
      `${head}${open}${"y".repeat(room)}\n… (diff cut: see the workflow log)${close}`,
    );
  });

  it("leaves room for the commit line too", () => {
    const commit = "abc1234";
    const tail = "<sub>Previewed at commit `abc1234`.</sub>";
    const room = roomUnder(2_000) - tail.length;
    const diff = "z".repeat(room + 1);
    expect(summarisePreview({ stack: "pr-7", steps, diff, commit, maxLength: 2_000 }).markdown).toBe(
      `${head}${open}${"z".repeat(room)}\n… (diff cut: see the workflow log)${close}\n${tail}\n`,
    );
  });

  it("shows nothing of it, only the note, when there is no room at all", () => {
    expect(summarisePreview({ stack: "pr-7", steps, diff: "abc", maxLength: 10 }).markdown).toBe(
      `${head}${open}\n… (diff cut: see the workflow log)${close}`,
    );
  });

  it("fits a GitHub comment by default", () => {
    const diff = "d".repeat(100_000);
    const { markdown } = summarisePreview({ stack: "pr-7", steps, diff });
    expect(markdown).toBe(
      `${head}${open}${"d".repeat(roomUnder(MAX_COMMENT_LENGTH))}\n… (diff cut: see the workflow log)${close}`,
    );
    expect(markdown.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH);
  });

  it("is left out when it holds only colour codes and white space", () => {
    expect(summarisePreview({ stack: "pr-7", steps, diff: "\u001b[0m \n\t\u001b[1;32m\n" }).markdown).toBe(head);
  });

  it("loses its colour codes and the white space around it, and every code fence inside", () => {
    const diff = "\n  \u001b[32m+ a\u001b[0m\n```\n~ b ```\n\n";
    expect(summarisePreview({ stack: "pr-7", steps, diff }).markdown).toBe(`${head}${open}+ a\nʼʼʼ\n~ b ʼʼʼ${close}`);
  });
});

describe("driftedResources", () => {
  it("lists each changed resource once, in order, with what a refresh found different", () => {
    const steps: PlannedStep[] = [
      step("create", APP, "new"),
      step("replace", APP, "swapped"),
      step("update", APP, "changed"),
      step("update", APP, "changed"),
      step("same", APP, "same"),
      step("read", APP, "read"),
      { ...step("refresh", APP, "refreshed"), diffs: ["spec"] },
      step("refresh", APP, "no-diffs-given"),
      { ...step("same", APP, "same-with-diffs"), diffs: ["spec"] },
      { op: "update", type: "pulumi:providers:docker", urn: "urn:pulumi:pr-7::newsletter::pulumi:providers:docker::p" },
      { op: "update", type: "pulumi:pulumi:Stack", urn: "urn:pulumi:pr-7::newsletter::pulumi:pulumi:Stack::s" },
      step("delete", APP, "gone"),
    ];
    expect(driftedResources(steps)).toEqual(
      ["new", "swapped", "changed", "refreshed", "gone"].map((name) => `${name} (${APP})`),
    );
  });
});
