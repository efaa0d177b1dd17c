/**
 * The one way the provider talks to the products' data planes (Redis REST,
 * Vector/Search, QStash), as opposed to the Developer API in ../http: Bearer
 * auth with the target's own token, bounded retries, and a typed error that
 * never carries a token.
 */
import { setTimeout as pause } from "timers/promises";
import type { AxiosResponse } from "axios";
import { apiBaseUrl, dataPlaneOverride, isLoopbackHost } from "../apiUrl";
import {
  CredentialsConfigurationError,
  messageOf,
  PortableError,
  redact,
  redactTokenLike,
} from "../http/errors";
import { loadAxios } from "../libraries";

export type DataPlaneErrorCode =
  | "unauthorized"
  | "forbidden"
  | "bad_request"
  | "not_found"
  | "rate_limited"
  | "server_error"
  | "timeout"
  | "network"
  | "malformed_response"
  | "unexpected_status";

/** A failed data-plane call: what it was, where, how it ended. Holds no token. */
export class DataPlaneError extends PortableError {
  readonly code: DataPlaneErrorCode;
  readonly operation: string;
  readonly host: string;
  readonly status: number | undefined;
  /** The product's own words from the error body, with every known secret redacted. */
  readonly upstashMessage: string | undefined;
  /** Whether the request may have taken effect although no success answer arrived. */
  readonly outcomeUnknown: boolean;
  readonly attempts: number;

  constructor(
    code: DataPlaneErrorCode,
    call: {
      operation: string;
      host: string;
      status?: number;
      upstashMessage?: string;
      detail?: string;
      attempts: number;
      outcomeUnknown: boolean;
    },
  ) {
    const status = call.status === undefined ? "" : ` with HTTP ${call.status}`;
    const detail = call.detail ? ` (${call.detail})` : "";
    const tries = call.attempts > 1 ? ` after ${call.attempts} attempts` : "";
    const said = call.upstashMessage ? `; Upstash said: "${call.upstashMessage}"` : "";
    const unreachable = code === "network" || code === "timeout";
    super(
      `Upstash data plane: ${call.operation} (${call.host}) failed${status}${detail}${tries}${said}.${
        unreachable
          ? " Check that this machine reaches the data plane (UPSTASH_DATA_PLANE_URL overrides where it is); a runner without egress to it can set verify: false for targets that only reset credentials."
          : ""
      }`,
    );
    this.name = "DataPlaneError";
    this.code = code;
    this.operation = call.operation;
    this.host = call.host;
    this.status = call.status;
    this.upstashMessage = call.upstashMessage;
    this.outcomeUnknown = call.outcomeUnknown;
    this.attempts = call.attempts;
  }
}

/** Whether `error` is a {@link DataPlaneError} (by name: see `hasUpstashCode` on `instanceof`). */
export function isDataPlaneError(
  error: unknown,
  ...codes: DataPlaneErrorCode[]
): error is DataPlaneError {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return (
    name === "DataPlaneError" && (codes.length === 0 || codes.includes(code as DataPlaneErrorCode))
  );
}

/** One data-plane request. */
export interface DataPlaneCall {
  method: "GET" | "POST";
  /** The product host, e.g. `eu2-sweeping-lark-31321.upstash.io` or `qstash.upstash.io`. */
  host: string;
  /** e.g. `/`, `/ping`, `/info`, `/v2/keys`. */
  path: string;
  /** Sent as `Authorization: Bearer <token>`; never put in an error. */
  token: string;
  /** Sent as JSON (Redis REST takes a command array). */
  body?: unknown;
  /** Human name for errors, e.g. "ACL GETUSER on Redis database …". */
  operation: string;
  /** Whether it may be repeated when its outcome is unknown. Default: GET only. */
  idempotent?: boolean;
  /** Also repeat a 401/403 within the budget: a fresh credential may still be propagating. */
  retryUnauthorized?: boolean;
  /** Budget of the whole call in ms (default `UPSTASH_API_MAX_TOTAL_MS`, else 60 s). */
  budgetMs?: number;
  /** Other values an error body might echo (admin token, passwords in the command). */
  secrets?: readonly (string | undefined)[];
}

/** A positive number of milliseconds from the environment variable `name`, else `fallback`. */
export function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return process.env[name] && Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * Where data-plane calls go: `UPSTASH_DATA_PLANE_URL` when set, else the real
 * hosts (`undefined`). With `UPSTASH_API_URL` pointing at a loopback API (an
 * emulator) and no override, it throws before anything is changed: the
 * credentials of a local API must not be sent to real Upstash hosts.
 */
export function dataPlaneBase(): string | undefined {
  const override = dataPlaneOverride(process.env.UPSTASH_DATA_PLANE_URL);
  if (override) return override;
  const api = new URL(apiBaseUrl(process.env.UPSTASH_API_URL));
  if (isLoopbackHost(api.hostname)) {
    throw new CredentialsConfigurationError(
      `UPSTASH_API_URL points at a local API (${api.host}) but UPSTASH_DATA_PLANE_URL is not set, so data-plane calls would go to the real Upstash hosts. Set UPSTASH_DATA_PLANE_URL to the local data plane (the emulator serves ${api.origin}/data-plane), or set verify: false on targets that only reset credentials. Nothing was changed.`,
    );
  }
  return undefined;
}

/** What would go to `https://<host><path>`, honouring `UPSTASH_DATA_PLANE_URL`. */
export function dataPlaneUrl(host: string, path: string): string {
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i.test(host)) {
    throw new PortableError(
      "The data-plane host the Developer API reported is not a plain host name; nothing was sent to it.",
    );
  }
  const base = dataPlaneBase();
  return base ? `${base}/${host}${path}` : `https://${host}${path}`;
}

const NOT_SENT = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"];

/** The product's message from an error body (`{"error": …}` or text), one line, redacted. */
function saidIn(text: string, secrets: readonly (string | undefined)[]): string | undefined {
  let message = text.trim();
  try {
    const parsed = JSON.parse(message) as unknown;
    if (typeof parsed === "string") message = parsed;
    else if (parsed && typeof parsed === "object") {
      const field =
        (parsed as Record<string, unknown>).error ?? (parsed as Record<string, unknown>).message;
      if (typeof field === "string") message = field;
    }
  } catch {
    // plain text
  }
  message = message.replace(/\s+/g, " ");
  if (message === "") return undefined;
  // Redact before cutting, so a secret crossing the cut leaves no prefix behind; and
  // token-like runs too, since a body may echo a secret this call was not told about.
  const redacted = redactTokenLike(redact(message, secrets));
  return redacted.length > 200 ? `${redacted.slice(0, 200)}…` : redacted;
}

function codeForStatus(status: number): DataPlaneErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 400) return "bad_request";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  return status >= 500 ? "server_error" : "unexpected_status";
}

/**
 * Sends one data-plane request and returns its decoded JSON body (2xx).
 * Repeats 429 and connections that never reached the server for every call;
 * 5xx, timeouts and dropped connections only for idempotent calls; 401/403
 * only with `retryUnauthorized`. Every wait fits in the budget.
 */
export async function dataPlaneRequest(call: DataPlaneCall): Promise<unknown> {
  const run = resolveRun(call);
  const budgetMs = call.budgetMs ?? envMs("UPSTASH_API_MAX_TOTAL_MS", 60_000);
  const { outcome, attempts } = await retryWithinBudget(budgetMs, (timeoutMs) =>
    attempt(run, timeoutMs),
  );
  if (outcome.succeeded) return decodeAnswer(run, outcome.value, attempts);
  throw failedCall(run, outcome.failure, attempts);
}

/** How one attempt ended: a result, or a failure and whether to try again. */
export type AttemptOutcome<T, F> =
  | { succeeded: true; value: T }
  | {
      succeeded: false;
      failure: F;
      retry: boolean;
      /** A wait the answer asked for (429 Retry-After); otherwise the backoff. */
      waitMs?: number;
    };

/**
 * The pacing every data-plane exchange shares (HTTP requests and the Redis
 * protocol proof): `attempt` runs until it succeeds, says not to retry, or
 * the next wait plus a short attempt would end past `budgetMs`. Each attempt
 * gets `UPSTASH_API_TIMEOUT_MS` (default 30 s) or what is left of the budget;
 * waits double from `UPSTASH_API_RETRY_BASE_MS` (default 250 ms) up to 20 s.
 * Returns the last outcome and how many attempts it took.
 */
export async function retryWithinBudget<T, F>(
  budgetMs: number,
  attempt: (timeoutMs: number) => Promise<AttemptOutcome<T, F>>,
): Promise<{ outcome: AttemptOutcome<T, F>; attempts: number }> {
  const deadline = Date.now() + budgetMs;
  const attemptMs = envMs("UPSTASH_API_TIMEOUT_MS", 30_000);
  const baseMs = envMs("UPSTASH_API_RETRY_BASE_MS", 250);
  for (let attempts = 1; ; attempts++) {
    const outcome = await attempt(Math.max(1, Math.min(attemptMs, deadline - Date.now())));
    if (outcome.succeeded || !outcome.retry) return { outcome, attempts };
    const waitMs = outcome.waitMs ?? Math.min(20_000, baseMs * 2 ** (attempts - 1));
    if (Date.now() + waitMs + Math.min(100, attemptMs) > deadline) return { outcome, attempts };
    await pause(waitMs);
  }
}

/** One data-plane call: what it sends where. */
interface DataPlaneRun {
  readonly call: DataPlaneCall;
  readonly url: string;
  readonly secrets: readonly (string | undefined)[];
  readonly idempotent: boolean;
  /** Whether some attempt may have been carried out without a success answer. */
  outcomeUnknown: boolean;
}

/** Why an attempt failed, in the terms of a `DataPlaneError`. */
interface Failure {
  code: DataPlaneErrorCode;
  status?: number;
  said?: string;
  detail?: string;
}

/** A 2xx as it arrived, before it is decoded. */
interface Answer {
  status: number;
  text: string;
}

function resolveRun(call: DataPlaneCall): DataPlaneRun {
  return {
    call,
    url: dataPlaneUrl(call.host, call.path),
    secrets: [call.token, ...(call.secrets ?? [])],
    idempotent: call.idempotent ?? call.method === "GET",
    outcomeUnknown: false,
  };
}

async function attempt(
  run: DataPlaneRun,
  timeoutMs: number,
): Promise<AttemptOutcome<Answer, Failure>> {
  try {
    return classifyAnswer(run, await send(run, timeoutMs));
  } catch (error) {
    return classifyFailure(run, error);
  }
}

function send(run: DataPlaneRun, timeout: number): Promise<AxiosResponse<string>> {
  const { call } = run;
  return loadAxios().request<string>({
    method: call.method,
    url: run.url,
    headers: {
      Authorization: `Bearer ${call.token}`,
      Accept: "application/json",
      ...(call.body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    data: call.body === undefined ? undefined : JSON.stringify(call.body),
    timeout,
    signal: AbortSignal.timeout(timeout),
    responseType: "text",
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxRedirects: 0,
  });
}

function classifyAnswer(
  run: DataPlaneRun,
  response: AxiosResponse<string>,
): AttemptOutcome<Answer, Failure> {
  const text = typeof response.data === "string" ? response.data : "";
  const status = response.status;
  if (status >= 200 && status < 300) return { succeeded: true, value: { status, text } };
  const failure = { code: codeForStatus(status), status, said: saidIn(text, run.secrets) };
  if (status >= 500) run.outcomeUnknown = true;
  const retryAfter = Number(response.headers["retry-after"]);
  return {
    succeeded: false,
    failure,
    waitMs: status === 429 && Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
    retry:
      status === 429 ||
      (status >= 500 && run.idempotent) ||
      ((status === 401 || status === 403) && run.call.retryUnauthorized === true),
  };
}

/** No answer at all: whether it reached the server decides whether a retry is safe. */
function classifyFailure(run: DataPlaneRun, error: unknown): AttemptOutcome<Answer, Failure> {
  const code = String((error as { code?: unknown }).code ?? "");
  const cause = String((error as { cause?: { code?: unknown } }).cause?.code ?? "");
  const notSent = NOT_SENT.includes(code) || NOT_SENT.includes(cause);
  const timedOut = ["ECONNABORTED", "ETIMEDOUT", "ERR_CANCELED"].includes(code);
  if (!notSent) run.outcomeUnknown = true;
  return {
    succeeded: false,
    failure: {
      code: timedOut ? "timeout" : "network",
      detail: code || redact(messageOf(error) ?? "", run.secrets) || undefined,
    },
    retry: notSent || run.idempotent,
  };
}

function decodeAnswer(run: DataPlaneRun, answer: Answer, attempts: number): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    throw new DataPlaneError("malformed_response", {
      operation: run.call.operation,
      host: run.call.host,
      status: answer.status,
      detail: "the body is not JSON",
      attempts,
      outcomeUnknown: false,
    });
  }
}

function failedCall(run: DataPlaneRun, failure: Failure, attempts: number): DataPlaneError {
  return new DataPlaneError(failure.code, {
    operation: run.call.operation,
    host: run.call.host,
    status: failure.status,
    upstashMessage: failure.said,
    detail: failure.detail,
    attempts,
    outcomeUnknown: run.outcomeUnknown,
  });
}
