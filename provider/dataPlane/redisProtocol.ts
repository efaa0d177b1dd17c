/**
 * Proof of a Redis password over the Redis protocol itself, the way a consumer
 * holding `redisUrl` connects: `AUTH` then `PING` on one short-lived
 * connection, TLS to the database's port (or wherever `UPSTASH_DATA_PLANE_URL`
 * points), and a typed error that never carries the password.
 */
import type { Redis as RedisClient } from "ioredis";
import { PortableError, redact, redactTokenLike } from "../http/errors";
import {
  dataPlaneBase,
  DataPlaneError,
  retryWithinBudget,
  type AttemptOutcome,
  type DataPlaneErrorCode,
} from "./client";
import { loadIoredis } from "../libraries";

/** Where a Redis connection goes, and whether it speaks TLS there. */
export interface RedisAddress {
  host: string;
  port: number;
  tls: boolean;
  /** The name TLS asks for and checks the certificate against; absent for an IP address. */
  servername?: string;
}

/** What a client connects with: the address plus the credentials of `redisUrl`. */
export interface RedisConnection extends RedisAddress {
  username: string;
  password: string;
}

const isIpAddress = (host: string): boolean => /^[\d.]+$/.test(host) || host.includes(":");

/**
 * Where a connection to `host:port` goes: there, or with `UPSTASH_DATA_PLANE_URL`
 * set to that URL's host and port, plain for `http://` (loopback only) and TLS
 * for `https://`. The emulator answers the Redis protocol on the port of its
 * HTTP data plane, so the one variable redirects both.
 */
export function redisAddress(host: string, port: number, tls: boolean): RedisAddress {
  const base = dataPlaneBase();
  if (base === undefined) return { host, port, tls, ...(tls ? { servername: host } : {}) };
  const url = new URL(base);
  const secure = url.protocol === "https:";
  const overridden = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    host: overridden,
    port: Number(url.port) || (secure ? 443 : 80),
    tls: secure,
    ...(secure && !isIpAddress(overridden) ? { servername: overridden } : {}),
  };
}

/**
 * Where and how a client holding `redisUrl` connects, under the same rules as
 * {@link redisAddress}. The error for a malformed URL never repeats it.
 */
export function redisConnection(redisUrl: string): RedisConnection {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new PortableError("The Redis URL to prove is not a valid URL.");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new PortableError(
      `The Redis URL to prove must start with redis:// or rediss://, not ${url.protocol}//.`,
    );
  }
  return {
    ...redisAddress(url.hostname, Number(url.port) || 6379, url.protocol === "rediss:"),
    username: decodeURIComponent(url.username) || "default",
    password: decodeURIComponent(url.password),
  };
}

/** Why a connection did not prove the password, in the terms of a `DataPlaneError`. */
interface Refusal {
  code: DataPlaneErrorCode;
  said?: string;
  detail?: string;
}

/** How one connection ended: authenticated, or why not and whether another may help. */
type Attempt = AttemptOutcome<void, Refusal>;

const PROVEN: Attempt = { succeeded: true, value: undefined };

/** Redis errors that say the server is busy rather than that the credential is wrong. */
const TRANSIENT = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b/;

/** An error reply of the server, as ioredis rejects a command with it. */
const replyText = (error: unknown): string | undefined => {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return name === "ReplyError" && typeof message === "string" ? message : undefined;
};

/** One connection of an attempt, and what happened on it so far. */
interface Session {
  readonly client: RedisClient;
  stage: "connect" | "auth" | "ping";
  /** The latest `error` event: it carries the socket's code, which the rejection does not. */
  lastError: unknown;
  /** Whether the attempt's overall timer ended it. */
  timedOut: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One connection: connect, `AUTH`, `PING`, disconnect, within `timeoutMs`. */
async function attempt(
  connection: RedisConnection,
  timeoutMs: number,
  secrets: readonly string[],
): Promise<Attempt> {
  const session = open(connection, timeoutMs);
  try {
    await connect(session);
    await authenticate(session, connection);
    return await ping(session);
  } catch (error) {
    return failedAttempt(session, error, timeoutMs, secrets);
  } finally {
    close(session);
  }
}

function open(connection: RedisConnection, timeoutMs: number): Session {
  const session: Session = {
    client: redisClient(connection, timeoutMs),
    stage: "connect",
    lastError: undefined,
    timedOut: false,
    timer: undefined,
  };
  session.client.on("error", (error: unknown) => {
    session.lastError = error;
  });
  // Connect, AUTH and PING each have their own timeout; this bounds all three together.
  session.timer = setTimeout(() => {
    session.timedOut = true;
    session.client.disconnect();
  }, timeoutMs);
  return session;
}

function redisClient(connection: RedisConnection, timeoutMs: number): RedisClient {
  const { Redis } = loadIoredis();
  return new Redis({
    host: connection.host,
    port: connection.port,
    ...(connection.tls
      ? { tls: connection.servername ? { servername: connection.servername } : {} }
      : {}),
    // The credentials go in an explicit AUTH below, so no option or ioredis error holds them.
    lazyConnect: true,
    // RESP2 and nothing but AUTH and PING: no HELLO, CLIENT SETINFO or INFO, which a
    // server may refuse for reasons that say nothing about the password.
    protocol: 2,
    enableReadyCheck: false,
    disableClientInfo: true,
    maintNotifications: "disabled",
    // One connection, never re-established: attempts are paced by `proveRedisUrl`.
    retryStrategy: () => null,
    reconnectOnError: () => false,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResubscribe: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
}

function connect(session: Session): Promise<void> {
  return session.client.connect();
}

function authenticate(session: Session, connection: RedisConnection): Promise<"OK"> {
  session.stage = "auth";
  return session.client.auth(connection.username, connection.password);
}

async function ping(session: Session): Promise<Attempt> {
  session.stage = "ping";
  const pong = await session.client.ping();
  if (pong === "PONG") return PROVEN;
  return {
    succeeded: false,
    failure: { code: "malformed_response", detail: "PING did not answer PONG" },
    retry: false,
  };
}

function close(session: Session): void {
  clearTimeout(session.timer);
  session.client.disconnect();
}

function failedAttempt(
  session: Session,
  error: unknown,
  timeoutMs: number,
  secrets: readonly string[],
): Attempt {
  const said = replyText(error);
  if (said !== undefined) return refusal(said, session.stage, secrets);
  const code = String((session.lastError as { code?: unknown } | undefined)?.code ?? "");
  if (session.timedOut || /timed out/i.test(String((error as { message?: unknown }).message))) {
    return {
      succeeded: false,
      failure: { code: "timeout", detail: `no answer within ${timeoutMs} ms` },
      retry: true,
    };
  }
  const stageText = { connect: "connecting", auth: "AUTH", ping: "PING" }[session.stage];
  return {
    succeeded: false,
    failure: {
      code: /ETIMEDOUT/.test(code) ? "timeout" : "network",
      detail: code ? `${code} while ${stageText}` : `the connection closed during ${stageText}`,
    },
    retry: true,
  };
}

/** The server's error reply: what it says about the password, the user or the server. */
function refusal(said: string, stage: Session["stage"], secrets: readonly string[]): Attempt {
  const words = redactTokenLike(redact(said.replace(/\s+/g, " "), secrets)).slice(0, 200);
  // NOPERM: the user may not run PING, but AUTH already accepted the password.
  if (stage === "ping" && /^NOPERM\b/.test(said)) return PROVEN;
  if (TRANSIENT.test(said)) {
    return { succeeded: false, failure: { code: "server_error", said: words }, retry: true };
  }
  // A fresh password may not have reached every node yet: asked again within the budget.
  const refused = /^(WRONGPASS|NOAUTH)\b/.test(said) || /invalid password/i.test(said);
  return refused
    ? { succeeded: false, failure: { code: "unauthorized", said: words }, retry: true }
    : { succeeded: false, failure: { code: "bad_request", said: words }, retry: false };
}

/**
 * Proves the credentials of `redisUrl` with `AUTH <user> <password>` and `PING`
 * (a NOPERM answer to PING still proves the password). A refused password,
 * a busy server and an unreachable one are tried again on a fresh connection
 * until `budgetMs` is spent, since a fresh password may take a moment to reach
 * every node; then the last failure is thrown as a `DataPlaneError`.
 */
export async function proveRedisUrl(
  redisUrl: string,
  operation: string,
  budgetMs: number,
): Promise<void> {
  const connection = redisConnection(redisUrl);
  const original = new URL(redisUrl);
  const shown = `${original.hostname}:${Number(original.port) || 6379}`;
  const secrets = [connection.password];
  const { outcome, attempts } = await retryWithinBudget(budgetMs, (timeoutMs) =>
    attempt(connection, timeoutMs, secrets),
  );
  if (outcome.succeeded) return;
  throw new DataPlaneError(outcome.failure.code, {
    operation,
    host: shown,
    upstashMessage: outcome.failure.said,
    detail: outcome.failure.detail,
    attempts,
    outcomeUnknown: false,
  });
}
