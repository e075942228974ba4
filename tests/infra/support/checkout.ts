// A copy of this checkout somewhere else, as a second clone would be: the files git tracks (and new ones it doesn't
// ignore), with their modes, and `node_modules` linked back so that the copy's infra/index.ts can run. Tests change
// files in the copy to see what a commit would do, and run it from another path to see what a CI runner would do.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "./pulumi-program";

export interface Checkout {
  readonly root: string;
  remove(): void;
}

export function copyCheckout(prefix = "newsletter-checkout-"): Checkout {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  for (const file of listed.split("\0")) {
    const from = path.join(REPO_ROOT, file);
    // Deleted but still tracked files, and folders such as submodules, are not part of the tree on disk.
    if (file === "" || !existsSync(from) || !statSync(from).isFile()) continue;
    const to = path.join(root, file);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, statSync(from).mode & 0o777);
  }
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
