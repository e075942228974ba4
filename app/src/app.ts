// The application, built without listening (fastify/demo's app.ts vs server.ts): tests drive it with `inject`,
// server.ts owns the port, the signals and the shutdown.
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import type { DestinationStream } from "pino";
import type { ZodType } from "zod";
import { createDatabase, type Database, DatabaseUnavailableError } from "./database";
import { BadRequestError, parseForm } from "./form";
import { loggerOptions } from "./logger";
import { healthCheckRoutes } from "./routes/health-check";
import { subscriptionRoutes } from "./routes/subscriptions";
import type { Settings } from "./settings";

/** The application as tests and server.ts see it. */
export type App = FastifyInstance;

/** The largest request body accepted; larger ones get a 400 naming the body. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export interface BuildAppOptions {
  /** Where log lines go (default stdout). Tests pass a stream to read them. */
  readonly logStream?: DestinationStream;
  /** Turn request logging off (benchmarks). */
  readonly logLevel?: string;
}

/** An id for each request's log lines: the caller's `x-request-id` when it looks like one, otherwise a new UUID. */
function requestId(header: string | string[] | undefined): string {
  return typeof header === "string" && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
}

export function buildApp(settings: Settings, options: BuildAppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: {
      ...loggerOptions(settings),
      ...(options.logLevel === undefined ? {} : { level: options.logLevel }),
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    },
    genReqId: (request) => requestId(request.headers["x-request-id"]),
    bodyLimit: BODY_LIMIT_BYTES,
    // In-flight requests finish on close; idle keep-alive connections are closed at once (the default, spelled out
    // because graceful shutdown depends on it).
    forceCloseConnections: "idle",
  });

  const db: Database = createDatabase(settings.database, app.log);
  app.addHook("onClose", async () => db.close());
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  // Once closing, a response to a request that was already in flight ends its keep-alive connection; otherwise the
  // connection turns idle after the response, stays open, and close() waits for the client to hang up.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });

  // Forms only: no JSON or text parser, so any other content type is refused (415, answered as 400 below). The
  // parser gets the raw bytes, not a string, to tell invalid UTF-8 from a real U+FFFD (form.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "buffer", bodyLimit: BODY_LIMIT_BYTES },
    async (_request: FastifyRequest, body: Buffer) => parseForm(body),
  );

  // Routes declare zod schemas; a failed parse names the field of the first problem.
  app.setValidatorCompiler(({ schema }) => (data) => {
    const result = (schema as ZodType).safeParse(data);
    if (result.success) return { value: result.data };
    const issue = result.error.issues[0];
    const field = issue?.path.length ? String(issue.path[0]) : "body";
    return { error: new BadRequestError(field, issue?.message ?? "invalid request") };
  });

  app.setErrorHandler<FastifyError | BadRequestError | DatabaseUnavailableError>((error, request, reply) => {
    if (error instanceof BadRequestError) {
      return reply.code(400).send({ error: "invalid_request", field: error.field, message: error.message });
    }
    if (error instanceof DatabaseUnavailableError) {
      request.log.warn({ err: error }, "database unavailable");
      return reply.code(503).header("retry-after", "2").send({ error: "unavailable", message: "try again later" });
    }
    const badRequest = clientError(error);
    if (badRequest !== undefined) {
      return reply.code(400).send({ error: "invalid_request", field: badRequest.field, message: badRequest.message });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "internal", message: "internal error" });
  });

  app.register(healthCheckRoutes);
  app.register(subscriptionRoutes, { db });
  return app;
}

/** Fastify's own 4xx errors (body too large, unsupported media type, bad content-length) as a 400 naming the part. */
function clientError(error: FastifyError | Error): { field: string; message: string } | undefined {
  const { code, statusCode } = error as FastifyError;
  switch (code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_TYPE":
      return { field: "content-type", message: "content-type must be application/x-www-form-urlencoded" };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { field: "body", message: `body must be at most ${BODY_LIMIT_BYTES} bytes` };
  }
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500)
    return { field: "body", message: error.message };
  return undefined;
}
