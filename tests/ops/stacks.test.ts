import { describe, expect, it } from "vitest";
import { ExitCode, OpsError } from "../../ops/errors";
import { parsePrNumber, parseStackRef, prNumberOf, prStackName, shortStackName } from "../../ops/stacks";

function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError);
    expect((error as OpsError).exitCode).toBe(ExitCode.usage);
    return (error as OpsError).message;
  }
  throw new Error("expected a usage error");
}

describe("parseStackRef", () => {
  it.each([
    ["production", { kind: "production", name: "production" }],
    ["local", { kind: "local", name: "local" }],
    ["pr-1", { kind: "pr", name: "pr-1", pr: 1 }],
    ["pr-42", { kind: "pr", name: "pr-42", pr: 42 }],
  ])("accepts %s", (raw, expected) => {
    expect(parseStackRef(raw)).toEqual(expected);
  });

  it.each([
    "prod",
    "Production",
    "pr-0",
    "pr-01",
    "pr-",
    "pr-4x",
    "PR-4",
    "pr--4",
    "pr-4 ",
    "staging",
    "",
    "org/newsletter/pr-4",
  ])("rejects %j with the allowed forms in the message", (raw) => {
    expect(usageMessage(() => parseStackRef(raw))).toBe(
      `invalid stack "${raw}": expected "production", "local" or "pr-<number>" (e.g. pr-42)`,
    );
  });
});

describe("parsePrNumber", () => {
  it("reads a positive integer", () => {
    expect(parsePrNumber("42")).toBe(42);
    expect(parsePrNumber(" 7 ")).toBe(7);
  });

  it.each(["0", "-3", "+3", "04", "4.0", "#4", "1e3", "abc", "", "999999999"])("rejects %j", (raw) => {
    expect(usageMessage(() => parsePrNumber(raw))).toBe(
      `invalid pull request number "${raw}": expected a positive integer such as 42`,
    );
  });
});

describe("per-PR stack names", () => {
  it("names the stack of PR 42 pr-42 and reads the number back", () => {
    expect(prStackName(42)).toBe("pr-42");
    expect(prNumberOf(prStackName(42))).toBe(42);
  });

  it("does not read a PR number from other stacks", () => {
    expect(prNumberOf("production")).toBeUndefined();
    expect(prNumberOf("local")).toBeUndefined();
    expect(prNumberOf("pr-42-old")).toBeUndefined();
    expect(prNumberOf("xpr-42")).toBeUndefined();
  });

  it("shortens fully qualified stack names to the stack part", () => {
    expect(shortStackName("acme/newsletter/pr-42")).toBe("pr-42");
    expect(shortStackName("pr-42")).toBe("pr-42");
  });
});
