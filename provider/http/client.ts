// Default import only: a named import makes TypeScript emit an `__importStar`
// copy of the module, which the closure serializer would then copy by value.
import axios from "axios";
import type { AxiosError, AxiosInstance } from "axios";
import axiosRetry from "axios-retry";
import { sharedRequestGate } from "./concurrency";
import {
  errorForStatus,
  messageOf,
  PortableError,
  redact,
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

/** How hard the client tries before it gives up on a call. */
export interface RetryPolicy {
  /** Attempts per call, the first one included. */
  maxAttempts: number;
  /** Wall-clock budget per call, retries and waits included. */
  maxTotalMs: number;
  /** First backoff step; later steps double, plus up to 20 % jitter. */
  baseDelayMs: number;
  /** Upper bound on a single wait, Retry-After included. */
  maxDelayMs: number;
}

export interface UpstashClientOptions {
  /** Base URL without the `/v2` prefix, e.g. `https://api.upstash.com`. */
  baseUrl: string;
  credentials: ManagementCredentials;
  /** Timeout of a single attempt. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Requests in flight across the whole process. */
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

/**
 * The one HTTP layer every target module goes through: Basic auth, timeouts,
 * bounded retries with backoff that honours Retry-After, the process-wide
 * request gate, and errors that never carry request headers or credentials.
 */
export class UpstashClient {
  private readonly options: UpstashClientOptions;

  constructor(options: UpstashClientOptions) {
    this.options = options;
  }

  async call<T>(spec: ApiCall<T>): Promise<T> {
    const policy: RetryPolicy = { ...DEFAULT_RETRY };
    for (const [key, value] of Object.entries(this.options.retry ?? {})) {
      if (typeof value === "number") policy[key as keyof RetryPolicy] = value;
    }
    const { email, apiKey } = this.options.credentials;
    // An error body or proxy page may echo the key, the email or the Basic header itself.
    const secrets = [apiKey, email, Buffer.from(`${email}:${apiKey}`).toString("base64")];
    const gate = sharedRequestGate(this.options.maxConcurrency ?? 4);
    const deadline = Date.now() + policy.maxTotalMs;
    let attempts = 0;
    let releaseSlot: (() => void) | undefined;
    const freeSlot = (): void => {
      releaseSlot?.();
      releaseSlot = undefined;
    };

    const http: AxiosInstance = axios.create({
      baseURL: this.options.baseUrl.replace(/\/+$/, ""),
      timeout: this.options.timeoutMs ?? 30_000,
      auth: { username: this.options.credentials.email, password: this.options.credentials.apiKey },
      headers: { Accept: "application/json" },
      responseType: "text",
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
    });
    let startedAt = 0;
    http.interceptors.request.use(async (config) => {
      releaseSlot = await gate.acquire();
      startedAt = Date.now();
      attempts++;
      return config;
    });
    // Registered before axios-retry so the slot is free while a retry waits.
    http.interceptors.response.use(
      (response) => {
        freeSlot();
        gate.observe("ok", startedAt);
        return response;
      },
      (error: unknown) => {
        freeSlot();
        const response = axios.isAxiosError(error) ? error.response : undefined;
        if (response?.status === 429) {
          gate.observe("throttled", startedAt);
          const wait = retryAfterMs(response.headers["retry-after"]);
          gate.pauseUntil(Date.now() + Math.min(wait ?? policy.baseDelayMs, policy.maxDelayMs));
        } else if (response) {
          // Any other answer still passed the rate limit.
          gate.observe("ok", startedAt);
        }
        return Promise.reject(error);
      },
    );
    axiosRetry(http, {
      retries: policy.maxAttempts - 1,
      shouldResetTimeout: true,
      retryDelay: (retryCount, error) =>
        Math.min(
          policy.maxDelayMs,
          axiosRetry.exponentialDelay(retryCount, error, policy.baseDelayMs / 2),
        ),
      retryCondition: (error) => {
        if (!isTransient(error)) return false;
        const hinted = retryAfterMs(error.response?.headers["retry-after"]) ?? 0;
        return Date.now() + Math.min(hinted, policy.maxDelayMs) < deadline;
      },
    });

    let text: string;
    let contentType: string;
    try {
      const response = await http.request<string>({ method: spec.method, url: spec.path });
      text = typeof response.data === "string" ? response.data : "";
      contentType = String(response.headers["content-type"] ?? "");
    } catch (error) {
      freeSlot();
      throw toUpstashError(error, spec, attempts, secrets);
    }

    let body: unknown;
    try {
      body = decodeBody(text, contentType);
      return spec.parse(body);
    } catch (error) {
      const problem = messageOf(error) ?? "unreadable body";
      throw new UpstashResponseError(
        { operation: spec.operation, targetId: spec.targetId, status: 200, attempts },
        redact(problem, secrets),
      );
    }
  }
}

/** 429, 5xx, timeouts and dropped connections: the request may succeed if repeated. */
function isTransient(error: AxiosError): boolean {
  const status = error.response?.status;
  if (status !== undefined) return status === 429 || status >= 500;
  return error.code !== "ERR_CANCELED";
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

/** Upstash's own words from an error body: JSON `error`/`message`, or plain text. */
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
  const oneLine = message.replace(/\s+/g, " ");
  const short = oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
  return redact(short, secrets);
}

/** Rebuilds an axios failure as a typed error holding no request or header. */
function toUpstashError(
  error: unknown,
  spec: ApiCall<unknown>,
  attempts: number,
  secrets: readonly string[],
): UpstashApiError {
  const call = { operation: spec.operation, targetId: spec.targetId, attempts };
  if (axios.isAxiosError(error)) {
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
