// Rules of the HTTP layer that hold for every route: how long a client may take to send its request, which bodies
// are refused before they are read, 405 for a known path with the wrong method, and the order in which pipelined
// requests on one connection are carried out.
import { MIMEType } from "node:util";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BadRequestError } from "./form";

/**
 * The longest a client may take to send a whole request, headers and body. A body is at most 16 KiB, a few seconds
 * on the slowest mobile link; a client that stalls (or trickles bytes, Slowloris) gets 408 and a closed connection
 * from Node instead of holding a socket for good. Node checks these deadlines every connectionsCheckingInterval,
 * so a stalled client is dropped between 10 and 11 s (https://nodejs.org/api/http.html#serverrequesttimeout).
 * Fastify's own default requestTimeout is 0, no limit (https://fastify.dev/docs/latest/Reference/Server/#requesttimeout).
 */
export const REQUEST_TIMEOUT_MS = 10_000;
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Fastify options for the timeouts above (headersTimeout must not exceed requestTimeout). */
export const serverTimeouts = {
  requestTimeout: REQUEST_TIMEOUT_MS,
  http: { headersTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
} as const;

/** A request carries a body when it declares a non-zero length or a chunked one (RFC 9112 §6.3). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * Bodies are read as they were sent: a compressed one (gzip, br, ...) would be parsed as if it were plain text, so
 * it is refused with 415 and Accept-Encoding naming what is accepted (RFC 9110 §15.5.16). `identity` means none.
 * A route's onRequest hook, in callback form: no promise per request.
 */
export function refuseContentEncoding(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: BadRequestError) => void,
): void {
  done(contentEncodingError(request));
}

function contentEncodingError(request: FastifyRequest): BadRequestError | undefined {
  const header = request.headers["content-encoding"];
  if (header === undefined || !hasBody(request)) return undefined;
  const codings = header
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "");
  if (codings.every((c) => c === "identity")) return undefined;
  return new BadRequestError("content-encoding", "content-encoding must be identity (no compression)", 415);
}

const FORM = "application/x-www-form-urlencoded";

/**
 * A form is UTF-8: that is what the WHATWG URL standard's urlencoded parser decodes, and what form.ts checks byte by
 * byte. A body that declares another charset (`charset=iso-8859-1`) would be misread, so it is refused with 415.
 * No charset at all means UTF-8.
 */
export function refuseCharset(contentType: string | undefined): void {
  // The usual header has no parameters to read: skip parsing it.
  if (contentType === undefined || contentType === FORM) return;
  let charset: string | null;
  try {
    charset = new MIMEType(contentType).params.get("charset");
  } catch {
    throw new BadRequestError("content-type", "content-type is not a valid media type", 415);
  }
  if (charset !== null && charset.toLowerCase() !== "utf-8") {
    throw new BadRequestError("content-type", "content-type charset must be utf-8", 415);
  }
}

/**
 * A path that exists answers a method it doesn't serve with 405 and the methods it does serve in Allow (RFC 9110
 * §15.5.6); any other path gets 404. Fastify answers both with 404.
 */
export function notFoundOrMethodNotAllowed(app: FastifyInstance) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?", 1)[0] ?? "";
    const allowed = app.supportedMethods.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allowed.length === 0) {
      return reply.code(404).send({ error: "not_found", message: `no route for ${request.method} ${path}` });
    }
    return reply
      .code(405)
      .header("allow", allowed.join(", "))
      .send({
        error: "method_not_allowed",
        message: `${request.method} is not allowed here; allowed: ${allowed.join(", ")}`,
      });
  };
}

/**
 * Pipelining: Node parses every request a client pipelines on a connection and hands each to the app, while their
 * responses wait in line. When an earlier response closes the connection (a 400 for an oversized body does), the
 * requests behind it have either been handed over already, or are handed over after it, from what was buffered,
 * with a socket whose writing side is already ended (node lib/_http_server.js: parserOnIncoming, resOnFinish and
 * its destroySoon). Either way their handlers would run and their answers never be sent: a subscription stored
 * without a response. So before its handler a request waits until its response is next in line, which Node signals
 * by giving the response its socket ('socket' event, ServerResponse#assignSocket), and runs only if that socket can
 * still carry the answer; otherwise it is dropped without running.
 */
export function runWhenAnswerable(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const response = reply.raw;
  const connection = request.raw.socket;
  // Almost always the response is next in line already: decide now, without a promise per request.
  if (connection === undefined) {
    done();
    return;
  }
  if (response.socket !== null) {
    carryOn(request, reply, done, true);
    return;
  }
  const settle = (answerable: boolean) => () => {
    response.off("socket", onSocket);
    connection.off("close", onClose);
    carryOn(request, reply, done, answerable);
  };
  const onSocket = settle(true);
  const onClose = settle(false);
  response.once("socket", onSocket);
  connection.once("close", onClose);
  if (connection.destroyed) onClose();
}

function carryOn(request: FastifyRequest, reply: FastifyReply, done: () => void, answerable: boolean): void {
  const connection = request.raw.socket;
  // Node keeps parsing what is buffered after a response that closes the connection has ended the socket's writing
  // side (destroySoon), and hands the next request a socket that can no longer carry its answer.
  if (!answerable || connection.writableEnded === true || connection.destroyed === true) {
    reply.hijack();
    request.log.info("pipelined request dropped unanswered: an earlier response closed the connection");
  }
  // A hijacked reply counts as sent, so then Fastify runs no handler after this hook (fastify
  // lib/handle-request.js, preHandlerCallback: `if (reply.sent) return`).
  done();
}
