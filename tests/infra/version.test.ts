import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { contextFiles, imageInputsVersion } from "../../infra/version";

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A build context with these files (path → content); `.dockerignore` among them if given. */
function context(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "newsletter-context-"));
  dirs.push(root);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content, { mode: 0o644 });
  }
  return root;
}

const paths = (root: string) => contextFiles(root).map((f) => f.path);
const version = (root: string, args: Record<string, string> = {}) =>
  imageInputsVersion({ context: root, dockerfile: "Dockerfile", target: "runtime", platform: "linux/amd64", args });

describe("contextFiles follows Docker's .dockerignore rules, not git's", () => {
  it("matches a pattern without a slash at the root only (git would match it at any depth)", () => {
    const root = context({ ".dockerignore": "*.log\n", "a.log": "", "sub/b.log": "", "sub/c.txt": "" });
    expect(paths(root)).toEqual([".dockerignore", "sub/b.log", "sub/c.txt"]);
  });

  it("re-includes files under an excluded folder with `!`, and excludes again what follows", () => {
    const root = context({
      ".dockerignore": "*\n!app/src/\n**/*.test.ts\n",
      "README.md": "",
      "app/src/a.ts": "",
      "app/src/a.test.ts": "",
      "app/other.ts": "",
    });
    expect(paths(root)).toEqual(["app/src/a.ts"]);
  });

  it("is case-sensitive, as Docker is on Linux", () => {
    const root = context({ ".dockerignore": "readme.md\n", "README.md": "", "readme.md": "" });
    expect(paths(root)).toEqual([".dockerignore", "README.md"]);
  });

  it("ignores comments and blank lines in .dockerignore", () => {
    const root = context({ ".dockerignore": "# *.md\n\n  \n", "a.md": "" });
    expect(paths(root)).toEqual([".dockerignore", "a.md"]);
  });

  it("records git's modes: the execute bit, and symbolic links by their target", () => {
    const root = context({ "run.sh": "#!/bin/sh\n", "data.txt": "x" });
    chmodSync(path.join(root, "run.sh"), 0o775);
    chmodSync(path.join(root, "data.txt"), 0o664);
    symlinkSync("data.txt", path.join(root, "link"));
    expect(contextFiles(root).map((f) => [f.path, f.mode])).toEqual([
      ["data.txt", "100644"],
      ["link", "120000"],
      ["run.sh", "100755"],
    ]);
  });
});

describe("imageInputsVersion", () => {
  const files = { Dockerfile: "FROM scratch\n", ".dockerignore": "*.md\n", "app.js": "1\n", "README.md": "" };

  it("is the same for the same inputs at another path", () => {
    expect(version(context(files))).toBe(version(context(files)));
  });

  it("changes with a file's content, name or execute bit, with the Dockerfile, and with a build arg", () => {
    const base = version(context(files));
    expect(version(context({ ...files, "app.js": "2\n" }))).not.toBe(base);
    const { "app.js": _renamed, ...others } = files;
    expect(version(context({ ...others, "main.js": "1\n" }))).not.toBe(base);
    expect(version(context({ ...files, Dockerfile: "FROM scratch\nUSER 1\n" }))).not.toBe(base);
    expect(version(context(files), { BUILD_IMAGE: "mirror/node" })).not.toBe(base);
    const executable = context(files);
    chmodSync(path.join(executable, "app.js"), 0o755);
    expect(version(executable)).not.toBe(base);
  });

  it("doesn't change with an excluded file, a proxy arg or a file's group write bit", () => {
    const base = version(context(files));
    expect(version(context({ ...files, "README.md": "changed" }))).toBe(base);
    expect(version(context(files), { HTTP_PROXY: "http://proxy:3128" })).toBe(base);
    const umask002 = context(files);
    chmodSync(path.join(umask002, "app.js"), 0o664);
    expect(version(umask002)).toBe(base);
  });
});
