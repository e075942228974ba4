// biome-ignore-all lint/suspicious/noTemplateCurlyInString: App Platform bindable variables are literal "${...}" strings.
// The checks that keep a literal secret or a moving image out of the App Platform spec (infra/app-spec.ts): what a
// bindable reference is, and what a digest is. Each case is one that a looser pattern would let through.
import { describe, expect, it } from "vitest";
import { type AppSpecInput, buildAppSpec, digestOf, isBindable, toAppPlatformEnvs } from "../../infra/app-spec";

const HEX = "0123456789abcdef".repeat(4);
const DIGEST = `sha256:${HEX}`;

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("isBindable", () => {
  it.each([
    "${db.PASSWORD}",
    "${db.DATABASE_URL}",
    "${db-admin.CA_CERT}",
    "${web.PUBLIC_URL}",
    "${db._PRIVATE}",
    "${db.SOME-KEY}",
    "${db2.PORT}",
    "${a.B}",
    "${db.A.B}",
  ])("accepts the single component reference %s", (value) => {
    expect(isBindable(value)).toBe(true);
  });

  it.each([
    ["a literal after the reference", "${db.PASSWORD}hunter2"],
    ["a newline after the reference", "${db.PASSWORD}\n"],
    ["a space after the reference", "${db.PASSWORD} "],
    ["a literal before the reference", "hunter2${db.PASSWORD}"],
    ["two references", "${db.PASSWORD}${db.HOSTNAME}"],
    ["an app-wide variable, which names no component", "${APP_URL}"],
    ["a component without a variable", "${db}"],
    ["an empty variable", "${db.}"],
    ["an empty segment", "${db..PASSWORD}"],
    ["a component starting with a digit", "${1db.PASSWORD}"],
    ["a component starting with a hyphen", "${-db.PASSWORD}"],
    ["an upper-case component", "${Db.PASSWORD}"],
    ["a variable starting with a digit", "${db.1PASSWORD}"],
    ["a variable starting with a hyphen", "${db.-PASSWORD}"],
    ["a variable with a dollar sign", "${db.PASS$WORD}"],
    ["no dollar sign", "{db.PASSWORD}"],
    ["no opening brace", "$db.PASSWORD}"],
    ["no closing brace", "${db.PASSWORD"],
    ["a brace inside", "${db.PASS}WORD}"],
    ["nothing", ""],
  ])("refuses %s: %j", (_case, value) => {
    expect(isBindable(value)).toBe(false);
  });
});

describe("toAppPlatformEnvs", () => {
  it("refuses a secret whose reference carries a literal after it", () => {
    expect(
      messageOf(() =>
        toAppPlatformEnvs([{ name: "APP_DATABASE__PASSWORD", value: "${db.PASSWORD}hunter2", secret: true }]),
      ),
    ).toBe(
      "APP_DATABASE__PASSWORD is secret but its value is not a bindable variable: it would be written into the app spec",
    );
  });

  it("passes a literal that is not secret, and keeps the order of the variables", () => {
    expect(
      toAppPlatformEnvs([
        { name: "APP_ENVIRONMENT", value: "production", secret: false },
        { name: "APP_DATABASE__PASSWORD", value: "${db.PASSWORD}", secret: true },
      ]),
    ).toEqual([
      { key: "APP_ENVIRONMENT", value: "production", scope: "RUN_TIME", type: "GENERAL" },
      { key: "APP_DATABASE__PASSWORD", value: "${db.PASSWORD}", scope: "RUN_TIME", type: "GENERAL" },
    ]);
  });
});

describe("the image digest", () => {
  const input: AppSpecInput = {
    name: "newsletter-pr-42",
    region: "fra",
    image: { repository: "newsletter", digest: DIGEST, version: "abc1234" },
    instanceSize: "apps-s-1vcpu-0.5gb",
    instanceCount: 1,
    database: { kind: "dev", version: "17" },
    domain: undefined,
  };

  it.each([
    ["junk after the digest", `${DIGEST}junk`],
    ["a newline after the digest", `${DIGEST}\n`],
    ["junk before the digest", `junk${DIGEST}`],
    ["a repository in front", `newsletter@${DIGEST}`],
    ["63 hexadecimal characters", DIGEST.slice(0, -1)],
    ["65 hexadecimal characters", `${DIGEST}0`],
    ["upper-case hexadecimal", `sha256:${HEX.toUpperCase()}`],
    ["another algorithm", `sha512:${HEX}`],
    ["no algorithm", HEX],
    ["a tag", "latest"],
  ])("is refused by buildAppSpec with %s", (_case, digest) => {
    expect(messageOf(() => buildAppSpec({ ...input, image: { ...input.image, digest } }))).toBe(
      `buildAppSpec: image digest must look like sha256:<64 hex>, got "${digest}"`,
    );
  });

  it("is taken from the last @ of a repository digest", () => {
    expect(digestOf(`registry.digitalocean.com/reg/newsletter@${DIGEST}`)).toBe(DIGEST);
    expect(digestOf(`r@x@${DIGEST}`)).toBe(DIGEST);
    expect(digestOf(`r@${DIGEST}`)).toBe(DIGEST);
  });

  it.each([
    ["junk after the digest", `registry.digitalocean.com/reg/newsletter@${DIGEST}junk`],
    ["a short digest", `registry.digitalocean.com/reg/newsletter@${DIGEST.slice(0, -1)}`],
    ["a tag after the digest", `registry.digitalocean.com/reg/newsletter@${DIGEST}:latest`],
    ["no repository in front", DIGEST],
    ["an empty repository in front", `@${DIGEST}`],
    ["nothing after the @", "registry.digitalocean.com/reg/newsletter@"],
    ["a tag instead of a digest", "registry.digitalocean.com/reg/newsletter:latest"],
  ])("is not read from a reference with %s", (_case, repoDigest) => {
    expect(messageOf(() => digestOf(repoDigest))).toBe(`Not a repository digest: "${repoDigest}"`);
  });
});
