import { describe, expect, it } from "vitest";
import { dockerLoginFromConfig, imageTag, isMissingTag } from "../../infra/container-image";

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
    ["production", "0123456789abcdef0123456789abcdef", "production-0123456789abcdef0123456789abcdef"],
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

describe("isMissingTag", () => {
  // The messages as they reach the program: the engine's and the bridge's prefixes around the data source's error
  // (terraform-provider-docker v4.5.0, data_source_docker_registry_image.go).
  const token = "docker:index/getRegistryImage:getRegistryImage";
  const failure = (status: string) =>
    new Error(
      `invocation of ${token} returned an error: invoking ${token}: Got error when attempting to fetch image version ` +
        `newsletter/newsletter:production-0123 from registry: got bad response from registry: ${status}`,
    );

  it("is true for a 404 of the manifest: the registry has no such tag", () => {
    expect(isMissingTag(failure("404 Not Found"))).toBe(true);
  });

  it.each(["401 Unauthorized", "403 Forbidden", "500 Internal Server Error"])(
    "is false for %s, which must stop the run instead of building",
    (status) => {
      expect(isMissingTag(failure(status))).toBe(false);
    },
  );

  it("is false for a network error and for anything that isn't an Error", () => {
    expect(isMissingTag(new Error("Error during registry request: dial tcp: connection refused"))).toBe(false);
    expect(isMissingTag("404 Not Found")).toBe(false);
  });
});
