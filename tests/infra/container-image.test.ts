import { describe, expect, it } from "vitest";
import { dockerLoginFromConfig, imageTag } from "../../infra/container-image";

describe("dockerLoginFromConfig", () => {
  it("reads the user and token out of the Docker config JSON DigitalOcean returns", () => {
    const auth = Buffer.from("dop_v1_token:dop_v1_token").toString("base64");
    const json = JSON.stringify({ auths: { "registry.digitalocean.com": { auth } } });
    expect(dockerLoginFromConfig(json, "registry.digitalocean.com")).toEqual({
      username: "dop_v1_token",
      password: "dop_v1_token",
    });
  });

  it("says which registry it has no login for, without printing the credentials", () => {
    const json = JSON.stringify({ auths: { "other.example.com": { auth: "c2VjcmV0OnNlY3JldA==" } } });
    expect(() => dockerLoginFromConfig(json, "registry.digitalocean.com")).toThrow(
      "The registry credentials hold no login for registry.digitalocean.com",
    );
  });
});

describe("imageTag", () => {
  it.each([
    ["production", "0123456789ab", "production-0123456789ab"],
    ["pr-42", "0123456789ab-dirty", "pr-42-0123456789ab-dirty"],
    ["feature/x", "v1.2", "feature-x-v1.2"],
  ])("tags stack %s at %s as %s", (stack, version, expected) => {
    expect(imageTag(stack, version)).toBe(expected);
  });

  it("stays within Docker's 128 characters", () => {
    expect(imageTag("pr-1", "x".repeat(300))).toHaveLength(128);
  });
});
