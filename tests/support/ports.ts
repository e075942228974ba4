// Waiting on ports of 127.0.0.1, for tests whose containers share the host's network (no bridge exists here, see
// ../shared/WORKPLACE.md): a server in a container binds the very port a test then probes.
import { connect } from "node:net";

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(true));
  });
}

/**
 * Wait for nothing to listen on `port` (a container stopped by the previous test may still be letting go of it),
 * then say so if something still does: the server under test must answer on this port itself, unoverridden.
 */
export async function waitForFreePort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portIsFree(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} on 127.0.0.1 is still taken after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Poll `url` until it answers 200. `stillRunning` (e.g. the container's state) ends the wait early when the server
 * is gone; the error then carries `describeFailure()` (e.g. the container's log).
 */
export async function waitFor200(
  url: string,
  options: { timeoutMs: number; stillRunning?: () => Promise<boolean>; describeFailure?: () => Promise<string> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "no answer";
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    const running = options.stillRunning === undefined ? true : await options.stillRunning();
    if (!running || Date.now() > deadline) {
      const detail = options.describeFailure === undefined ? "" : `\n${await options.describeFailure()}`;
      const why = running ? `within ${options.timeoutMs} ms` : "before the server stopped";
      throw new Error(`${url} did not answer 200 ${why} (last: ${last})${detail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
