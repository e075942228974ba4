// The image's version: a content hash of everything that decides what `docker build` produces, and of nothing else.
// Two checkouts with the same Dockerfile, the same files in the build context and the same build args get the same
// version, wherever they live and whichever commit they are at; a README-only commit changes nothing. The version
// tags the image in the registry (so a stack finds an image built before, by a laptop or a CI runner) and is what the
// app reports, through the deployment's environment, never baked into the image.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import * as path from "node:path";
import ignore from "@balena/dockerignore";

/** Bumped whenever what is hashed, or how, changes: old and new versions must never collide. */
const FORMAT = "newsletter-image-inputs/v1";

/**
 * Docker's predefined proxy args: they reach RUN steps but are left out of the image's history and config
 * (https://docs.docker.com/reference/dockerfile/#predefined-args), so the same image comes out behind any proxy.
 */
const PROXY_ARGS = new Set(
  ["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"].flatMap((name) => [name, name.toLowerCase()]),
);

export interface ImageInputs {
  /** The build context: the checkout's root. */
  readonly context: string;
  /** The Dockerfile, absolute or relative to `context`. */
  readonly dockerfile: string;
  readonly target: string;
  readonly platform: string;
  /** Build args as passed to `docker build` (base-image mirrors, an npm mirror, proxies). */
  readonly args: Readonly<Record<string, string>>;
}

export interface ContextFile {
  /** Relative to the context, `/`-separated. */
  readonly path: string;
  /** As git records it: 100644, 100755 (any execute bit) or 120000 (a symbolic link). */
  readonly mode: "100644" | "100755" | "120000";
  /** sha256 of the content (of the link's target path for a symbolic link). */
  readonly sha256: string;
}

/**
 * The files `docker build` sends for this context, after `.dockerignore`, sorted by path.
 *
 * The patterns are Docker's, not git's (`*` matches one level, `!` can re-include a file under an excluded folder):
 * @balena/dockerignore is a port of moby's implementation (builder/dockerignore, pkg/fileutils). Folders are walked
 * the way moby's archive walker does it (pkg/archive/archive.go, TarWithOptions): an excluded folder is skipped
 * unless an exception pattern (`!...`) names something inside it.
 *
 * Modes are reduced to what git keeps (the execute bit), so that two checkouts made with different umasks hash alike.
 */
export function contextFiles(context: string): ContextFile[] {
  const patterns = readDockerignore(context);
  // Case-sensitive, as Docker matches on Linux (the library defaults to case-insensitive).
  const matcher = ignore({ ignorecase: false }).add(patterns);
  const exceptions = patterns
    .filter((p) => p.startsWith("!"))
    .map((p) => path.posix.normalize(p.slice(1).trim().replace(/^\/+/, "")));
  const files: ContextFile[] = [];

  const walk = (relativeDir: string): void => {
    const absoluteDir = path.join(context, relativeDir);
    for (const entry of readdirSync(absoluteDir, { withFileTypes: true })) {
      const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
      const absolute = path.join(absoluteDir, entry.name);
      if (entry.isDirectory()) {
        if (!matcher.ignores(relative) || exceptions.some((e) => `${e}/`.startsWith(`${relative}/`))) walk(relative);
        continue;
      }
      if (matcher.ignores(relative)) continue;
      const stat = lstatSync(absolute);
      if (stat.isSymbolicLink()) {
        files.push({ path: relative, mode: "120000", sha256: sha256(readlinkSync(absolute)) });
      } else if (stat.isFile()) {
        files.push({
          path: relative,
          mode: stat.mode & 0o111 ? "100755" : "100644",
          sha256: sha256(readFileSync(absolute)),
        });
      }
    }
  };
  walk("");
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The version of the image these inputs build: 32 hex digits (128 bits) of a sha256 over, in a fixed order, the
 * Dockerfile's content, the target and platform, the build args other than proxies, and every context file's path,
 * mode and content. The base images are named in the Dockerfile's ARG defaults or in the args, so they are in it
 * too (by reference: pin them by digest to follow their content as well).
 */
export function imageInputsVersion(inputs: ImageInputs): string {
  const hash = createHash("sha256");
  const field = (name: string, value: string | Buffer) => {
    hash.update(`${name}\0${Buffer.byteLength(value)}\0`);
    hash.update(value);
  };
  field("format", FORMAT);
  field("dockerfile", readFileSync(path.resolve(inputs.context, inputs.dockerfile)));
  field("target", inputs.target);
  field("platform", inputs.platform);
  for (const name of Object.keys(inputs.args).sort()) {
    if (!PROXY_ARGS.has(name)) field(`arg ${name}`, inputs.args[name] ?? "");
  }
  for (const file of contextFiles(inputs.context)) field(`file ${file.mode} ${file.path}`, file.sha256);
  return hash.digest("hex").slice(0, 32);
}

function readDockerignore(context: string): string[] {
  let text: string;
  try {
    text = readFileSync(path.join(context, ".dockerignore"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  // Comments and blank lines are no patterns (moby, builder/dockerignore ReadAll).
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
