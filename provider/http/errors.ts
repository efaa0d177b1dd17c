/**
 * Typed errors for the Upstash Developer API. Every message is built from the
 * status, the operation and the target id only, so no error can carry the
 * Authorization header, the API key or a credential that a response held.
 */

import { credentialSources } from "../credentialSources";

/** Machine-readable reason for a failed Upstash call. */
export type UpstashErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "not_acceptable"
  | "rate_limited"
  | "server_error"
  | "unavailable"
  | "timeout"
  | "network"
  | "malformed_response"
  | "unexpected_status";

/** What a failed call was trying to do, for the error text. */
export interface FailedCall {
  /** Human name of the operation, e.g. "reset password of Redis database". */
  operation: string;
  /** The database, index or QStash user id the call addressed, when it had one. */
  targetId?: string;
  /** The HTTP status, when the API answered at all. */
  status?: number;
  /** Upstash's own message from the error body, already redacted. */
  upstashMessage?: string;
  /** How many attempts were made before giving up. */
  attempts?: number;
  /** What went wrong below HTTP, e.g. "ECONNRESET". */
  detail?: string;
  /**
   * Whether the request may have reached Upstash and taken effect although no
   * success answer arrived; see `UpstashApiError.outcomeUnknown`. When absent,
   * the error's code decides: `server_error`, `unavailable`, `timeout` and
   * `network` count as unknown, everything else as known.
   */
  outcomeUnknown?: boolean;
  /**
   * A `Retry-After` (in ms) that did not fit in what was left of the call's
   * budget, so the call gave up instead of waiting; with `remainingMs`.
   */
  retryAfterMs?: number;
  /** What was left of the call's budget when it gave up on `retryAfterMs`. */
  remainingMs?: number;
}

/** Codes whose request may have been carried out although no answer said so. */
const OUTCOME_UNKNOWN_CODES: readonly UpstashErrorCode[] = [
  "server_error",
  "unavailable",
  "timeout",
  "network",
];

/** Milliseconds as seconds for a message: "30 s", "1.5 s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Base of this package's errors. Serialized into state, classes become
 * functions whose `super(...)` is `Error.call(this, …)`, which sets nothing:
 * without setting `message` here the engine would report "error: undefined".
 */
export class PortableError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
  }
}

/** Base class of every error this package throws for an Upstash API call. */
export class UpstashApiError extends PortableError {
  readonly code: UpstashErrorCode;
  readonly status: number | undefined;
  readonly operation: string;
  readonly targetId: string | undefined;
  readonly upstashMessage: string | undefined;
  readonly attempts: number | undefined;
  /**
   * True when the request may have reached Upstash and taken effect although
   * no success answer arrived, on the last attempt or an earlier one: a
   * timeout, a connection dropped after the request was sent, or a 5xx. A
   * reset that fails so may have rotated the credentials; read them back
   * before deciding. False when Upstash provably did not act on it (any 4xx,
   * 429 included; connection refused; the host name did not resolve) or did
   * act on it (`malformed_response`: a 2xx whose body was unusable).
   */
  readonly outcomeUnknown: boolean;

  constructor(code: UpstashErrorCode, call: FailedCall, advice: string) {
    const subject = call.targetId ? `${call.operation} (${call.targetId})` : call.operation;
    const status = call.status === undefined ? "" : ` with HTTP ${call.status}`;
    const said = call.upstashMessage ? `; Upstash said: "${call.upstashMessage}"` : "";
    const detail = call.detail ? ` (${call.detail})` : "";
    const tries = call.attempts && call.attempts > 1 ? ` after ${call.attempts} attempts` : "";
    const waitTooLong =
      call.retryAfterMs === undefined
        ? ""
        : ` Upstash asked to wait ${seconds(call.retryAfterMs)} (Retry-After), which is beyond the ${seconds(call.remainingMs ?? 0)} left of this call's budget (UPSTASH_API_MAX_TOTAL_MS), so it was not repeated.`;
    super(
      `Upstash API: ${subject} failed${status}${detail}${tries}${said}.${waitTooLong} ${advice}`,
    );
    this.name = "UpstashApiError";
    this.code = code;
    this.status = call.status;
    this.operation = call.operation;
    this.targetId = call.targetId;
    this.upstashMessage = call.upstashMessage;
    this.attempts = call.attempts;
    this.outcomeUnknown = call.outcomeUnknown ?? OUTCOME_UNKNOWN_CODES.includes(code);
  }
}

/** 401 and 403: the management credentials are wrong or lack the permission. */
export class UpstashAuthError extends UpstashApiError {
  constructor(call: FailedCall) {
    super(
      call.status === 403 ? "forbidden" : "unauthorized",
      call,
      call.status === 403
        ? "The API key is valid but not allowed to do this: check that it belongs to the team that owns the target and has write access."
        : `Check the management API key and the email it belongs to (${credentialSources()}).`,
    );
    this.name = "UpstashAuthError";
  }
}

/** 404: the target does not exist in the account the credentials belong to. */
export class UpstashNotFoundError extends UpstashApiError {
  constructor(call: FailedCall) {
    super(
      "not_found",
      call,
      "That database, index or QStash user does not exist in this account: check the id and that the API key belongs to the account (or team) that owns it.",
    );
    this.name = "UpstashNotFoundError";
  }
}

/** 429 that outlived the retry budget. */
export class UpstashRateLimitError extends UpstashApiError {
  constructor(call: FailedCall) {
    super(
      "rate_limited",
      call,
      call.retryAfterMs === undefined
        ? "Upstash kept rate-limiting the requests: run again later or with a lower `pulumi up --parallel`."
        : "Run again later, or give calls a budget that covers the wait.",
    );
    this.name = "UpstashRateLimitError";
  }
}

/** 5xx, timeouts and dropped connections that outlived the retry budget. */
export class UpstashUnavailableError extends UpstashApiError {
  constructor(code: "server_error" | "unavailable" | "timeout" | "network", call: FailedCall) {
    super(
      code,
      call,
      "The Upstash API did not answer successfully; it may be degraded. Run again later; if a reset was under way, run `pulumi refresh` first to record the current credentials.",
    );
    this.name = "UpstashUnavailableError";
  }
}

/** 400, 405, 406 and other statuses a correct request should never get. */
export class UpstashRequestError extends UpstashApiError {
  constructor(
    code: "bad_request" | "method_not_allowed" | "not_acceptable" | "unexpected_status",
    call: FailedCall,
  ) {
    super(
      code,
      call,
      "The API rejected the request; this is likely a bug in pulumi-upstash-credential-rotation or an API change. Please report it with this message.",
    );
    this.name = "UpstashRequestError";
  }
}

/** A 2xx answer whose body does not have the documented shape (the request did take effect). */
export class UpstashResponseError extends UpstashApiError {
  constructor(call: FailedCall, problem: string) {
    super(
      "malformed_response",
      { ...call, outcomeUnknown: false },
      `The response did not have the expected shape (${problem}); the API may have changed.`,
    );
    this.name = "UpstashResponseError";
  }
}

/** Builds the typed error for an HTTP status. */
export function errorForStatus(call: FailedCall & { status: number }): UpstashApiError {
  const { status } = call;
  if (status === 401 || status === 403) return new UpstashAuthError(call);
  if (status === 404) return new UpstashNotFoundError(call);
  if (status === 429) return new UpstashRateLimitError(call);
  if (status === 503) return new UpstashUnavailableError("unavailable", call);
  if (status >= 500) return new UpstashUnavailableError("server_error", call);
  if (status === 400) return new UpstashRequestError("bad_request", call);
  if (status === 405) return new UpstashRequestError("method_not_allowed", call);
  if (status === 406) return new UpstashRequestError("not_acceptable", call);
  return new UpstashRequestError("unexpected_status", call);
}

/**
 * Inside the provider as stored in state, `instanceof` cannot be trusted for
 * these classes: the closure serializer rebuilds a class as a function without
 * linking its prototype to its parent's, so there a subclass instance is
 * neither `instanceof UpstashApiError` nor `instanceof Error`. Provider code
 * asks for the error's code instead.
 */
export function hasUpstashCode<C extends UpstashErrorCode>(
  error: unknown,
  ...codes: C[]
): error is UpstashApiError & { code: C } {
  if (error === null || typeof error !== "object") return false;
  const { code, operation } = error as Partial<UpstashApiError>;
  return (
    typeof operation === "string" &&
    typeof code === "string" &&
    (codes.length === 0 || (codes as string[]).includes(code))
  );
}

/** An error's message, whatever its prototype chain (see `hasUpstashCode`). */
export function messageOf(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const { message } = error as { message?: unknown };
  return typeof message === "string" ? message : undefined;
}

/** Management credentials are missing, partial or unusable. */
export class CredentialsConfigurationError extends PortableError {
  constructor(message: string) {
    super(message);
    this.name = "CredentialsConfigurationError";
  }
}

/**
 * Replaces every occurrence of each secret in `text`. Used on text that comes
 * from outside (Upstash error bodies, low-level network messages) before it is
 * put in an error, since a proxy or an API bug could echo a credential back.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}

/**
 * Replaces every run of 20 or more characters from `[A-Za-z0-9+/=_]` in
 * `text`: passwords, tokens and keys look like that, words and sentences do
 * not, and UUIDs are kept because `-` is not in the set. Defence in depth for
 * error bodies, which may echo credentials the client was not told about.
 */
export function redactTokenLike(text: string): string {
  return text.replace(/[A-Za-z0-9+/=_]{20,}/g, "[redacted]");
}
