import { describe, expect, it } from "vitest";
import { parseImageRepository, prImageTags, prTagPrefix } from "../../ops/images";

describe("prImageTags", () => {
  const tags = [
    "pr-4-0123456789ab",
    "pr-4-fedcba987654",
    "pr-42-0123456789ab",
    "pr-40-0123456789ab",
    "pr-4",
    "pr-14-0123456789ab",
    "xpr-4-0123456789ab",
    "PR-4-0123456789ab",
    "production-0123456789ab",
    "local-0123456789ab",
  ];

  it.each([
    [4, ["pr-4-0123456789ab", "pr-4-fedcba987654"]],
    [42, ["pr-42-0123456789ab"]],
    [40, ["pr-40-0123456789ab"]],
    [14, ["pr-14-0123456789ab"]],
    [1, []],
    [7, []],
  ])("PR %i owns exactly %j", (pr, expected) => {
    expect(prImageTags(tags, pr)).toEqual(expected);
  });

  it("uses the stack name and imageTag's separator as the prefix", () => {
    expect(prTagPrefix(4)).toBe("pr-4-");
  });
});

describe("parseImageRepository", () => {
  it.each([
    ["registry.digitalocean.com/acme/newsletter", { registry: "acme", repository: "newsletter" }],
    ["registry.digitalocean.com/acme/team/newsletter", { registry: "acme", repository: "team/newsletter" }],
  ])("reads %s", (name, expected) => {
    expect(parseImageRepository(name)).toEqual(expected);
  });

  it.each([
    "",
    "registry.digitalocean.com",
    "registry.digitalocean.com/",
    "registry.digitalocean.com/acme",
    "registry.digitalocean.com/acme/",
    "registry.digitalocean.com//newsletter",
    "registry.digitalocean.com/acme//newsletter",
    "registry.digitalocean.com/acme/newsletter:pr-4-0123456789ab",
    "registry.digitalocean.com/acme/newsletter@sha256:0123",
    "docker.io/acme/newsletter",
    "https://registry.digitalocean.com/acme/newsletter",
  ])("refuses %j", (name) => {
    expect(parseImageRepository(name)).toBeUndefined();
  });
});
