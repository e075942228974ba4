// `engines` in both package.json files promises a Node version; every installed package must accept it, or `npm ci`
// warns (EBADENGINE) and that package may fail on the promised version. Read from the lockfiles, which record each
// package's own `engines`, so a Dependabot update that raises a floor fails here until `engines` follows. The floor
// is 22.13: cookie 2 (fastify → light-my-request) wants Node >= 22, vite (vitest) ^20.19 || >= 22.12, and
// @inquirer/* (StrykerJS) >= 23.5 || ^22.13 || ^20.17.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");

interface Lockfile {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
}

describe.each(["package.json", "app/package.json"])("%s engines", (file) => {
  const manifest = JSON.parse(readFileSync(path.join(root, file), "utf8")) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(path.join(root, path.dirname(file), "package-lock.json"), "utf8")) as Lockfile;

  it("names a floor that every locked dependency accepts", () => {
    const floor = semver.minVersion(manifest.engines.node)?.version ?? "";
    expect(floor).toMatch(/^\d+\.\d+\.\d+$/);
    const refusing = Object.entries(lock.packages)
      .filter(([name]) => name !== "")
      .flatMap(([name, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range === undefined || semver.satisfies(floor, range) ? [] : [`${name} wants ${range}`];
      });
    expect(refusing).toEqual([]);
  });

  it("is what the lockfile records for the package itself", () => {
    expect(lock.packages[""]?.engines).toEqual(manifest.engines);
  });
});
