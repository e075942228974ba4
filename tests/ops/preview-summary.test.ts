import { describe, expect, it } from "vitest";
import {
  driftedResources,
  foldSteps,
  type PlannedStep,
  resourceName,
  summarisePreview,
} from "../../ops/preview-summary";

const urn = (type: string, name: string) =>
  `urn:pulumi:production::newsletter::newsletter:infra:Component$${type}::${name}`;
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const REGISTRY = "digitalocean:index/containerRegistry:ContainerRegistry";
const APP = "digitalocean:index/app:App";
const DB = "digitalocean:index/databaseDb:DatabaseDb";
const USER = "digitalocean:index/databaseUser:DatabaseUser";
const step = (op: string, type: string, name: string, keys: string[] = []): PlannedStep => ({
  op,
  type,
  urn: urn(type, name),
  keys,
});

// The events a preview emits: one per resource, and for a replacement several ops on one URN.
const stackStep: PlannedStep = {
  op: "same",
  type: "pulumi:pulumi:Stack",
  urn: "urn:pulumi:production::newsletter::pulumi:pulumi:Stack::newsletter-production",
};
const providerStep: PlannedStep = {
  op: "create",
  type: "pulumi:providers:digitalocean",
  urn: "urn:pulumi:production::newsletter::pulumi:providers:digitalocean::default",
};

describe("foldSteps", () => {
  it("folds a replacement's create-replacement, replace and delete-replaced into one replace with its keys", () => {
    const steps = [
      step("create-replacement", CLUSTER, "db-cluster", ["region"]),
      step("replace", CLUSTER, "db-cluster", ["region"]),
      step("delete-replaced", CLUSTER, "db-cluster"),
    ];
    expect(foldSteps(steps)).toEqual([
      { urn: urn(CLUSTER, "db-cluster"), name: "db-cluster", type: CLUSTER, kind: "replace", replaceKeys: ["region"] },
    ]);
  });

  it("leaves out the stack resource, providers and reads", () => {
    expect(foldSteps([stackStep, providerStep, step("read", APP, "existing")])).toEqual([]);
  });

  it("takes the resource name from the end of the URN", () => {
    expect(resourceName(urn(APP, "newsletter-app"))).toBe("newsletter-app");
  });
});

describe("summarisePreview", () => {
  it("puts the change counts first, then calls out replaced or deleted stateful resources at the top", () => {
    const summary = summarisePreview({
      stack: "production",
      commit: "abc1234",
      steps: [
        stackStep,
        step("same", USER, "app-user"),
        step("update", APP, "app"),
        step("create", "digitalocean:index/project:Project", "project"),
        step("create-replacement", CLUSTER, "db-cluster", ["region"]),
        step("replace", CLUSTER, "db-cluster", ["region"]),
        step("delete-replaced", CLUSTER, "db-cluster"),
        step("delete", REGISTRY, "registry"),
      ],
    });
    expect(summary.counts).toEqual({ create: 1, update: 1, replace: 1, delete: 1, same: 1 });
    expect(summary.markdown).toBe(
      [
        "### Pulumi preview of `production`",
        "",
        "**1 to create · 1 to update · 1 to replace · 1 to delete** · 1 unchanged",
        "",
        "> [!CAUTION]",
        "> **This change replaces or deletes resources that hold data:**",
        `> - **replace** \`db-cluster\` (\`${CLUSTER}\`), because \`region\` changed`,
        `> - **delete** \`registry\` (\`${REGISTRY}\`)`,
        "> A replacement creates an empty resource and deletes the old one with its data.",
        "",
        "| change | resource | type |",
        "| --- | --- | --- |",
        `| update | \`app\` | \`${APP}\` |`,
        "| create | `project` | `digitalocean:index/project:Project` |",
        `| replace | \`db-cluster\` | \`${CLUSTER}\` |`,
        `| delete | \`registry\` | \`${REGISTRY}\` |`,
        "",
        "<sub>Previewed at commit `abc1234`.</sub>",
        "",
      ].join("\n"),
    );
  });

  it("does not raise the alarm for replacing or deleting resources that hold no data", () => {
    const summary = summarisePreview({
      stack: "production",
      steps: [step("replace", APP, "app"), step("delete", USER, "old-user")],
    });
    expect(summary.stateful).toEqual([]);
    expect(summary.markdown).not.toContain("CAUTION");
  });

  it("calls out deleting the database inside the cluster too", () => {
    const summary = summarisePreview({ stack: "production", steps: [step("delete", DB, "newsletter-db")] });
    expect(summary.stateful.map((c) => c.name)).toEqual(["newsletter-db"]);
  });

  it("says there are no changes when every resource is unchanged", () => {
    const summary = summarisePreview({ stack: "production", steps: [stackStep, step("same", APP, "app")] });
    expect(summary.hasChanges).toBe(false);
    expect(summary.markdown).toBe(
      "### Pulumi preview of `production`\n\n**0 to create · 0 to update · 0 to replace · 0 to delete** · 1 unchanged\n\nNo changes.\n",
    );
  });

  it("folds the full diff at the end without colour codes, and cuts it to fit a GitHub comment", () => {
    const diff = `\u001b[32m+ digitalocean:index/app:App: (create)\u001b[0m\n${"  ~ spec: {...}\n".repeat(10_000)}`;
    const summary = summarisePreview({
      stack: "production",
      steps: [step("create", APP, "app")],
      diff,
      maxLength: 5_000,
    });
    expect(summary.markdown.length).toBeLessThanOrEqual(5_000);
    expect(summary.markdown).toContain("<details><summary>Full diff (<code>pulumi preview --diff</code>)</summary>");
    expect(summary.markdown).toContain("```diff\n+ digitalocean:index/app:App: (create)\n");
    expect(summary.markdown).not.toContain("\u001b[");
    expect(summary.markdown).toContain("… (diff cut: see the workflow log)");
    expect(summary.markdown.indexOf("to create")).toBeLessThan(summary.markdown.indexOf("<details>"));
  });

  it("keeps a diff that contains a code fence from closing the block early", () => {
    const summary = summarisePreview({ stack: "production", steps: [], diff: "value: ```\nmore" });
    expect(summary.markdown.match(/```/g)).toHaveLength(2);
  });
});

describe("driftedResources", () => {
  it("lists resources a refresh found changed or gone, and not the unchanged ones", () => {
    const steps: PlannedStep[] = [
      { ...step("refresh", APP, "app"), diffs: ["spec"] },
      { ...step("refresh", CLUSTER, "db-cluster"), diffs: [] },
      step("delete", USER, "app-user"),
      stackStep,
    ];
    expect(driftedResources(steps)).toEqual([`app (${APP})`, `app-user (${USER})`]);
  });
});
