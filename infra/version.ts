// The version an image reports when the stack doesn't set `appVersion`: the checkout's commit, marked `-dirty` when
// the working tree has uncommitted changes (so such an image is never mistaken for the commit's).
import { execFileSync } from "node:child_process";
import * as path from "node:path";

export function currentCommit(cwd: string = path.resolve(__dirname, "..")): string {
  try {
    return execFileSync("git", ["describe", "--always", "--dirty", "--abbrev=12", "--exclude", "*"], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(
      `Can't tell which commit to deploy (${detail}). Run from a git checkout, or set it: ` +
        "`pulumi config set appVersion <git sha>`",
    );
  }
}
