import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from "axios";
import { isLibraryMissing, loadAxios, loadAxiosRetry } from "../libraries";
import { type RequestGate, sharedRequestGate } from "./concurrency";
import {
  errorForStatus,
  messageOf,
  type FailedCall,
  PortableError,
  redact,
  redactTokenLike,
  UpstashApiError,
  UpstashResponseError,
  UpstashUnavailableError,
} from "./errors";

/** The account-level credentials of the Upstash Developer API (HTTP Basic). */
export interface ManagementCredentials {
  /** The email of the Upstash account the API key belongs to. */
  email: string;
  /** The Developer API key (console → Account → Management API). */
  apiKey: string;
}

/**
 * How hard the client tries before it gives up on a call. The provider reads
 * each field from the environment variable named below, at call time.
 */
export interface RetryPolicy {
  /**
   * Attempts per call, the first one included.
   * Environment: `UPSTASH_API_MAX_ATTEMPTS`.
   * @default 6
   */
  maxAttempts: number;
  /**
   * Wall-clock budget per call: every attempt, backoff wait and Retry-After
   * wait fits inside it. It starts when the process-wide request gate first
   * admits the call. Time spent waiting at the gate because of other calls
   * is added to it rather than taken from it: a free slot, always; a pause
   * (another call's 429) or the learned rate, only until the call has been
   * answered 429 itself. From then on those holds count against the budget,
   * and a retry the gate would hold past it is not sent (the call fails with
   * its last 429). Each attempt's timeout is the lesser of `timeoutMs` and
   * what is left; a wait that would end past it is not started.
   * Environment: `UPSTASH_API_MAX_TOTAL_MS`.
   * @default 60000
   */
  maxTotalMs: number;
  /**
   * First backoff step; later steps double, plus up to 20 % jitter.
   * Environment: `UPSTASH_API_RETRY_BASE_MS`.
   * @default 250
   */
  baseDelayMs: number;
  /**
   * Upper bound on one backoff step. It does not cap a `Retry-After`: that
   * is waited as given when it fits in the budget, and fails the call at once
   * when it does not. Not read from the environment.
   * @default 20000
   */
  maxDelayMs: number;
}

export interface UpstashClientOptions {
  /**
   * Base URL without the `/v2` prefix, e.g. `https://api.upstash.com`.
   * Environment (read by the provider): `UPSTASH_API_URL`.
   * @default DEFAULT_API_URL (the provider's fallback; required here)
   */
  baseUrl: string;
  /**
   * The management credentials, sent as HTTP Basic auth and never put in an error.
   * Environment (read by the provider): `UPSTASH_EMAIL` and `UPSTASH_API_KEY`.
   * @default none (required)
   */
  credentials: ManagementCredentials;
  /**
   * Timeout of a single attempt, cut to what is left of `retry.maxTotalMs`.
   * Environment: `UPSTASH_API_TIMEOUT_MS`.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retry policy; fields left out take their defaults (see `RetryPolicy`).
   * @default { maxAttempts: 6, maxTotalMs: 60000, baseDelayMs: 250, maxDelayMs: 20000 }
   */
  retry?: Partial<RetryPolicy>;
  /**
   * Requests in flight across the whole process (the gate is shared; the
   * latest client's value applies).
   * Environment: `UPSTASH_API_MAX_CONCURRENCY`.
   * @default 4
   */
  maxConcurrency?: number;
}

/** One Developer API call: where it goes, what it is called in errors, how its body is read. */
export interface ApiCall<T> {
  method: "GET" | "POST";
  /** Path including its version prefix, e.g. `/v2/redis/database/{id}`. */
  path: string;
  /** Human name used in errors, e.g. "reset password of Redis database". */
  operation: string;
  targetId?: string;
  /**
   * Whether the call may be repeated when its outcome is unknown (a timeout,
   * a connection dropped after sending, a 5xx). A call that is not idempotent
   * is repeated only when Upstash provably did not act on it: a 429, or a
   * connection that never reached the server (refused, host not found).
   * @default true for GET, false for POST
   */
  idempotent?: boolean;
  /**
   * Values to keep out of errors, besides the management credentials: the
   * target's own credentials (a password, a token) when the caller knows them.
   * They are replaced by `[redacted]` in anything taken from a response.
   * Runs of 20 or more token-like characters in an error body are redacted
   * whether named here or not.
   */
  secrets?: readonly string[];
  /** Validates the decoded body; throw a `ResponseShapeError` to reject it. */
  parse(body: unknown): T;
}

/** Thrown by `ApiCall.parse` when a body does not match; the client wraps it. */
export class ResponseShapeError extends PortableError {
  constructor(problem: string) {
    super(problem);
    this.name = "ResponseShapeError";
  }
}

export const DEFAULT_API_URL = "https://api.upstash.com";

const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  maxTotalMs: 60_000,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
};
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONCURRENCY = 4;
/** A retry is started only if at least this long (or `timeoutMs`, if less) is left for its attempt. */
const MIN_ATTEMPT_MS = 100;
/** Connection failures that happen before anything reaches the server: safe to repeat any call. */
const NOT_SENT_CODES = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"];

/**
 * How a failed attempt ended, for deciding whether to repeat it:
 * `throttled` (429) and `not-sent` were provably not acted on; `unknown` (5xx,
 * timeout, connection lost after sending) may have been; `final` is an answer
 * that repeating will not change (other 4xx, redirects, cancellation).
 */
type AttemptFailure = "throttled" | "not-sent" | "unknown" | "final";

function attemptFailure(error: unknown): AttemptFailure {
  if (!loadAxios().isAxiosError(error)) return "unknown";
  const status = error.response?.status;
  if (status !== undefined) {
    if (status === 429) return "throttled";
    return status >= 500 ? "unknown" : "final";
  }
  if (error.code === "ERR_CANCELED") return "final";
  const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
  if (NOT_SENT_CODES.includes(error.code ?? "") || NOT_SENT_CODES.includes(String(causeCode))) {
    return "not-sent";
  }
  return "unknown";
}

/**
 * The one HTTP layer every target module goes through: Basic auth, timeouts,
 * bounded retries with backoff that honours Retry-After, the process-wide
 * request gate, and errors that never carry request headers or credentials.
 *
 * Retries (axios-retry): 429 and connections refused or not resolved are
 * repeated for every call; 5xx, timeouts and connections lost after sending
 * only for idempotent calls (`ApiCall.idempotent`). axios-retry 4's
 * `exponentialDelay` takes the larger of the backoff and Retry-After and adds
 * up to 20 % jitter to it, so the client computes each wait itself (Retry-After
 * exactly when present, exponential backoff otherwise), hands it to axios-retry
 * as `retryDelay`, and lets the deadline decide in `retryCondition` whether it
 * is taken at all.
 */
export class UpstashClient {
  private readonly options: UpstashClientOptions;

  constructor(options: UpstashClientOptions) {
    this.options = options;
  }

  async call<T>(spec: ApiCall<T>): Promise<T> {
    const run = startRun(resolvePolicy(this.options.retry), this.options, spec);
    const secrets = secretsOf(this.options.credentials, spec);
    const http = transport(run, this.options);
    const answer = await send(http, run, spec, secrets);
    const body = decodeAnswer(answer, run, spec, secrets);
    return parseBody(body, run, spec, secrets);
  }
}

/** One call on its way through the transport steps; each attempt updates it. */
interface CallRun {
  readonly policy: RetryPolicy;
  readonly timeoutMs: number;
  readonly idempotent: boolean;
  readonly gate: RequestGate;
  /** Thrown (and recognised by identity) when the gate would hold a retry past the deadline. */
  readonly heldPastDeadline: Error;
  /**
   * Set when the gate first admits the call; pushed back by later waits at
   * the gate that other calls caused (see `RetryPolicy.maxTotalMs`).
   */
  deadline: number | undefined;
  /** Whether an attempt of this call was answered 429: its own holds at the gate count from then on. */
  throttledSelf: boolean;
  /** The failure of the latest attempt, for the error when the gate would hold a retry too long. */
  lastError: unknown;
  attempts: number;
  /** Whether some attempt may have been carried out without a success answer. */
  outcomeUnknown: boolean;
  /** The wait `decideRetry` chose for the retry it allowed. */
  nextDelayMs: number;
  /** A Retry-After that did not fit in the budget, for the error. */
  tooLong: { retryAfterMs: number; remainingMs: number } | undefined;
  attemptSignal: AbortSignal | undefined;
  releaseSlot: (() => void) | undefined;
  /** When the gate admitted the latest attempt, for what the gate learns from its answer. */
  startedAt: number;
}

/** A 2xx answer as it arrived, before it is decoded. */
interface Answer {
  text: string;
  contentType: string;
}

/** The defaults, with every field the options set as a number taking their place. */
function resolvePolicy(retry: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY };
  for (const [key, value] of Object.entries(retry ?? {})) {
    if (typeof value === "number") policy[key as keyof RetryPolicy] = value;
  }
  return policy;
}

function startRun(
  policy: RetryPolicy,
  options: UpstashClientOptions,
  spec: ApiCall<unknown>,
): CallRun {
  return {
    policy,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    idempotent: spec.idempotent ?? spec.method === "GET",
    gate: sharedRequestGate(options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY),
    heldPastDeadline: new Error("held at the request gate past the call's deadline"),
    deadline: undefined,
    throttledSelf: false,
    lastError: undefined,
    attempts: 0,
    outcomeUnknown: false,
    nextDelayMs: 0,
    tooLong: undefined,
    attemptSignal: undefined,
    releaseSlot: undefined,
    startedAt: 0,
  };
}

/** An error body or proxy page may echo the key, the email or the Basic header itself. */
function secretsOf(credentials: ManagementCredentials, spec: ApiCall<unknown>): string[] {
  const { email, apiKey } = credentials;
  return [
    apiKey,
    email,
    Buffer.from(`${email}:${apiKey}`).toString("base64"),
    ...(spec.secrets ?? []),
  ];
}

/**
 * An axios instance for one call. axios-retry sends every retry through the
 * instance's interceptors again, so the gate and the classification of each
 * answer are interceptors rather than steps around `request`.
 */
function transport(run: CallRun, options: UpstashClientOptions): AxiosInstance {
  const { email, apiKey } = options.credentials;
  const http = loadAxios().create({
    baseURL: options.baseUrl.replace(/\/+$/, ""),
    auth: { username: email, password: apiKey },
    headers: { Accept: "application/json" },
    responseType: "text",
    transformResponse: [(data: unknown) => data],
    maxRedirects: 0,
  });
  http.interceptors.request.use((config) => waitForGate(run, config));
  // Registered before axios-retry so the slot is free while a retry waits.
  http.interceptors.response.use(
    (response) => classifyAnswer(run, response),
    (error: unknown) => classifyFailure(run, error),
  );
  loadAxiosRetry()(http, {
    retries: run.policy.maxAttempts - 1,
    shouldResetTimeout: true,
    retryCondition: (error) => decideRetry(run, error),
    retryDelay: () => run.nextDelayMs,
    onRetry: (_retryCount, _error, config) => {
      // Spent: axios-retry would skip the wait if it saw it aborted; the next attempt sets its own.
      config.signal = undefined;
    },
  });
  return http;
}

async function waitForGate(
  run: CallRun,
  config: InternalAxiosRequestConfig,
): Promise<InternalAxiosRequestConfig> {
  const queuedAt = Date.now();
  const minAttemptMs = Math.min(MIN_ATTEMPT_MS, run.timeoutMs);
  const admission = await run.gate.acquire(
    run.throttledSelf && run.deadline !== undefined
      ? Math.max(0, run.deadline - queuedAt - minAttemptMs)
      : undefined,
  );
  if (!admission) throw run.heldPastDeadline;
  run.releaseSlot = admission.release;
  run.startedAt = Date.now();
  if (run.deadline === undefined) run.deadline = run.startedAt + run.policy.maxTotalMs;
  // Only waits that other calls caused push the deadline back: once this call has been
  // throttled, a pause or pacing may be its own doing.
  else run.deadline += run.throttledSelf ? admission.slotWaitMs : run.startedAt - queuedAt;
  run.attempts++;
  const attemptMs = Math.max(1, Math.min(run.timeoutMs, run.deadline - run.startedAt));
  // axios' timeout stops counting once bytes flow; the signal bounds the whole attempt.
  config.timeout = attemptMs;
  run.attemptSignal = AbortSignal.timeout(attemptMs);
  config.signal = run.attemptSignal;
  return config;
}

function freeSlot(run: CallRun): void {
  run.releaseSlot?.();
  run.releaseSlot = undefined;
}

function classifyAnswer<R>(run: CallRun, response: R): R {
  freeSlot(run);
  run.gate.observe("ok", run.startedAt);
  return response;
}

function classifyFailure(run: CallRun, error: unknown): Promise<never> {
  if (error === run.heldPastDeadline) return Promise.reject(error);
  freeSlot(run);
  run.lastError = error;
  if (loadAxios().isAxiosError(error)) {
    // The attempt's own deadline fired: a timeout like axios' own.
    if (error.code === "ERR_CANCELED" && run.attemptSignal?.aborted) error.code = "ECONNABORTED";
    const response = error.response;
    if (response?.status === 429) learnFromThrottle(run, response);
    // Any other answer still passed the rate limit.
    else if (response) run.gate.observe("ok", run.startedAt);
  }
  if (attemptFailure(error) === "unknown") run.outcomeUnknown = true;
  return Promise.reject(error);
}

function learnFromThrottle(run: CallRun, response: AxiosResponse): void {
  run.throttledSelf = true;
  const limitSeen = run.gate.observe("throttled", run.startedAt);
  const advertised = retryAfterMs(response.headers["retry-after"]);
  // Every request waits as Upstash told (but not beyond one call's whole budget), or
  // briefly if the 429 looks like the rate limit; after a stray one only this call waits.
  if (advertised !== undefined || limitSeen) {
    const wait = advertised ?? run.policy.baseDelayMs;
    run.gate.pauseUntil(Date.now() + Math.min(wait, run.policy.maxTotalMs));
  }
}

function decideRetry(run: CallRun, error: AxiosError): boolean {
  const failure = attemptFailure(error);
  if (failure === "final" || (failure === "unknown" && !run.idempotent)) return false;
  const advertised = retryAfterMs(error.response?.headers["retry-after"]);
  const delay =
    advertised ??
    Math.min(
      run.policy.maxDelayMs,
      loadAxiosRetry().exponentialDelay(run.attempts, undefined, run.policy.baseDelayMs / 2),
    );
  const now = Date.now();
  const remaining = (run.deadline ?? now) - now;
  if (now + delay + Math.min(MIN_ATTEMPT_MS, run.timeoutMs) > (run.deadline ?? now)) {
    if (advertised !== undefined) {
      run.tooLong = { retryAfterMs: advertised, remainingMs: Math.max(0, remaining) };
    }
    return false;
  }
  run.nextDelayMs = delay;
  return true;
}

/** Every attempt the policy allows; a failure leaves as a typed error holding no request. */
async function send(
  http: AxiosInstance,
  run: CallRun,
  spec: ApiCall<unknown>,
  secrets: readonly string[],
): Promise<Answer> {
  try {
    const response = await http.request<string>({ method: spec.method, url: spec.path });
    return {
      text: typeof response.data === "string" ? response.data : "",
      contentType: String(response.headers["content-type"] ?? ""),
    };
  } catch (error) {
    freeSlot(run);
    const failure =
      error === run.heldPastDeadline && run.lastError !== undefined ? run.lastError : error;
    const { attempts, outcomeUnknown, tooLong } = run;
    throw toUpstashError(failure, spec, secrets, { attempts, outcomeUnknown, ...tooLong });
  }
}

function decodeAnswer(
  answer: Answer,
  run: CallRun,
  spec: ApiCall<unknown>,
  secrets: readonly string[],
): unknown {
  try {
    return decodeBody(answer.text, answer.contentType);
  } catch (error) {
    throw unreadable(error, run, spec, secrets);
  }
}

function parseBody<T>(
  body: unknown,
  run: CallRun,
  spec: ApiCall<T>,
  secrets: readonly string[],
): T {
  try {
    return spec.parse(body);
  } catch (error) {
    // Our own install, not Upstash's answer. (Every change is preceded by a read that parses
    // with the same library, so this fails before anything is changed.)
    if (isLibraryMissing(error)) throw error;
    throw unreadable(error, run, spec, secrets);
  }
}

/** A 2xx body that could not be decoded or did not parse. */
function unreadable(
  error: unknown,
  run: CallRun,
  spec: ApiCall<unknown>,
  secrets: readonly string[],
): UpstashResponseError {
  const problem = messageOf(error) ?? "unreadable body";
  return new UpstashResponseError(
    { operation: spec.operation, targetId: spec.targetId, status: 200, attempts: run.attempts },
    redact(problem, secrets),
  );
}

/** Retry-After as milliseconds; it may be delta-seconds or an HTTP date. */
export function retryAfterMs(header: unknown): number | undefined {
  if (typeof header !== "string" || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Upstash answers JSON, but some endpoints return a bare `OK` and error
 * bodies may be plain text; a body that claims to be JSON and is not is an error.
 */
function decodeBody(text: string, contentType: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    if (/json/i.test(contentType) || /^[[{"]/.test(trimmed)) {
      throw new ResponseShapeError("the body is not valid JSON");
    }
    return trimmed;
  }
}

/**
 * Upstash's own words from an error body: JSON `error`/`message`, or plain text,
 * with `secrets` and anything that looks like a credential redacted (before it
 * is cut to 200 characters, so no secret's beginning is left behind).
 */
function upstashMessage(data: unknown, secrets: readonly string[]): string | undefined {
  if (typeof data !== "string" || data.trim() === "") return undefined;
  let message = data.trim();
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === "string") message = parsed;
    else if (parsed && typeof parsed === "object") {
      const record = parsed as Record<string, unknown>;
      const field = record.error ?? record.message;
      if (typeof field === "string") message = field;
    }
  } catch {
    // Plain-text body: use it as it is.
  }
  const oneLine = redactTokenLike(redact(message, secrets).replace(/\s+/g, " "));
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** Rebuilds an axios failure as a typed error holding no request or header. */
function toUpstashError(
  error: unknown,
  spec: ApiCall<unknown>,
  secrets: readonly string[],
  outcome: Pick<FailedCall, "attempts" | "outcomeUnknown" | "retryAfterMs" | "remainingMs">,
): UpstashApiError {
  const call = { operation: spec.operation, targetId: spec.targetId, ...outcome };
  if (loadAxios().isAxiosError(error)) {
    if (error.response) {
      return errorForStatus({
        ...call,
        status: error.response.status,
        upstashMessage: upstashMessage(error.response.data, secrets),
      });
    }
    const timedOut = error.code === "ECONNABORTED" || error.code === "ETIMEDOUT";
    return new UpstashUnavailableError(timedOut ? "timeout" : "network", {
      ...call,
      detail: error.code,
    });
  }
  return new UpstashUnavailableError("network", {
    ...call,
    detail: redact(messageOf(error) ?? "", secrets) || undefined,
  });
}
