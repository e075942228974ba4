// Entry point of the operations CLI: `npm run ops -- <command>` (tsx ops/cli.ts). Wires the real Pulumi workspace,
// probe, file system and API clients into runCli, and turns its result into the process exit code. Exit codes are
// listed in ops/errors.ts and in `npm run ops -- --help`.
import { execFile } from "node:child_process";
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { AppPlatformClient } from "./app-platform";
import type { Deps } from "./commands";
import { DIGITALOCEAN_API, DigitalOceanClient } from "./digitalocean";
import { ExitCode, OpsError } from "./errors";
import { GitHubClient, parseRepository } from "./github";
import { globalFetch } from "./http";
import { systemProbe } from "./prerequisites";
import { runCli } from "./program";
import { openWorkspace } from "./pulumi";

const repoRoot = path.resolve(__dirname, "..");
/** The DigitalOcean API's base; DIGITALOCEAN_API_URL points the CLI at another (a fake on 127.0.0.1 in tests). */
const api = process.env.DIGITALOCEAN_API_URL || DIGITALOCEAN_API;

function gitHead(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("git", ["rev-parse", "HEAD"], { cwd: repoRoot }, (error, stdout) =>
      resolve(error ? undefined : stdout.trim()),
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const deps: Deps = {
  repoRoot,
  env: process.env,
  now: () => new Date(),
  openWorkspace,
  probe: systemProbe,
  sleep,
  print: (text) => console.log(text),
  progress: (text) => process.stdout.write(text),
  warn: (text) => console.error(text),
  writeFile: (file, content) => writeFile(file, content, "utf8"),
  readFile: (file) => readFile(file, "utf8"),
  ensureDir: async (dir) => {
    await mkdir(dir, { recursive: true });
  },
  gitHead,
  setOutput: async (name, value) => {
    if (process.env.GITHUB_OUTPUT)
      await appendFile(process.env.GITHUB_OUTPUT, `${name}=${value.replace(/\s+/g, " ")}\n`, "utf8");
  },
  github: () => {
    const token = process.env.GITHUB_TOKEN;
    if (!token)
      throw new OpsError("GITHUB_TOKEN is not set (GitHub Actions provides it to the workflow)", ExitCode.prerequisite);
    return new GitHubClient(token, parseRepository(process.env.GITHUB_REPOSITORY));
  },
  digitalocean: () =>
    process.env.DIGITALOCEAN_TOKEN
      ? new DigitalOceanClient(process.env.DIGITALOCEAN_TOKEN, globalFetch, api)
      : undefined,
  appendFile: (file, content) => appendFile(file, content, "utf8"),
  deployments: {
    api: () =>
      process.env.DIGITALOCEAN_TOKEN
        ? new AppPlatformClient(process.env.DIGITALOCEAN_TOKEN, globalFetch, api)
        : undefined,
    fetch: globalFetch,
    sleep,
    nowMs: () => Date.now(),
  },
};

runCli(process.argv.slice(2), deps).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Not an OpsError: a bug in this CLI. Show everything.
    console.error(error);
    process.exitCode = ExitCode.failed;
  },
);
