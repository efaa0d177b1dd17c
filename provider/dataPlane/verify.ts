import { messageOf, PortableError } from "../http/errors";
import { dataPlaneRequest, envMs } from "./client";
import { isPermissionError } from "./redis";
import { proveRedisUrl } from "./redisProtocol";

/** The data planes a freshly issued credential is proven against. */
export type VerifiedProduct = "redis" | "vector" | "search" | "qstash";

/** The credentials a rotation is about to hand out, as far as proving them needs. */
export interface HandOut {
  /** The product host. */
  endpoint: string;
  token: string;
  readOnlyToken?: string;
  /** Redis: proven with the user, host and port of `redisUrl`. */
  password?: string;
  redisUrl?: string;
}

/**
 * Per product: what each token is called in messages, and the request that
 * proves it. The read-only tokens are proven with a read: Redis `DBSIZE` (a
 * `@read` command that needs no key), Vector/Search `GET /info`, QStash a list
 * of schedules (Upstash: the read-only token reads "logs, messages, schedules").
 */
const PROOFS: Record<
  VerifiedProduct,
  { token: string; tokenPath: string; readOnly: string; readPath: string }
> = {
  redis: {
    token: "REST token",
    tokenPath: "/ping",
    readOnly: "read-only REST token",
    readPath: "/dbsize",
  },
  vector: { token: "token", tokenPath: "/info", readOnly: "read-only token", readPath: "/info" },
  search: { token: "token", tokenPath: "/info", readOnly: "read-only token", readPath: "/info" },
  qstash: {
    token: "QStash token",
    tokenPath: "/v2/keys",
    readOnly: "read-only QStash token",
    readPath: "/v2/schedules",
  },
};

/** Several credentials of one rotation failed their proofs; each message says which and why. */
export class CredentialProofError extends PortableError {
  constructor(failures: unknown[]) {
    super(
      `${failures.length} of the new credentials failed their proofs: ${failures
        .map((failure, i) => `(${i + 1}) ${messageOf(failure) ?? "unknown error"}`)
        .join(" ")}`,
    );
    this.name = "CredentialProofError";
  }
}

/**
 * One request with `token` itself. A 401/403 is repeated within the budget,
 * since a fresh credential may take a moment to reach every node; with
 * `authenticatedIfDenied`, a Redis NOPERM answer proves the token too (it
 * authenticated, the user may only lack the command).
 */
async function proveToken(
  host: string,
  token: string,
  path: string,
  credential: string,
  authenticatedIfDenied: boolean,
  budgetMs: number,
): Promise<void> {
  try {
    await dataPlaneRequest({
      method: "GET",
      host,
      path,
      token,
      operation: `prove ${credential} (GET ${path})`,
      retryUnauthorized: true,
      budgetMs,
    });
  } catch (error) {
    if (authenticatedIfDenied && isPermissionError(error)) return;
    throw error;
  }
}

/**
 * Proves every credential in `handOut` with the credential itself, all at
 * once (the run waits for the slowest, not for their sum): the token (Redis
 * `PING` over REST, Vector/Search `GET /info`, QStash `GET /v2/keys`), the
 * read-only token with a read (see {@link PROOFS}), and a Redis password with
 * `AUTH` and `PING` over the Redis protocol at the host and port of `redisUrl`.
 * Each is retried within `UPSTASH_VERIFY_MAX_MS` (default 5 s). Throws the
 * failure of the one that failed, or a `CredentialProofError` naming several.
 */
export async function proveHandOut(
  product: VerifiedProduct,
  handOut: HandOut,
  what: string,
): Promise<void> {
  const budgetMs = envMs("UPSTASH_VERIFY_MAX_MS", 5000);
  const { token, tokenPath, readOnly, readPath } = PROOFS[product];
  const proofs = [
    proveToken(
      handOut.endpoint,
      handOut.token,
      tokenPath,
      `the new ${token} of ${what}`,
      product === "redis",
      budgetMs,
    ),
  ];
  if (handOut.readOnlyToken !== undefined) {
    proofs.push(
      proveToken(
        handOut.endpoint,
        handOut.readOnlyToken,
        readPath,
        `the new ${readOnly} of ${what}`,
        false,
        budgetMs,
      ),
    );
  }
  const password = `the new password of ${what} (AUTH and PING over the Redis protocol)`;
  if (handOut.redisUrl !== undefined) {
    proofs.push(proveRedisUrl(handOut.redisUrl, `prove ${password}`, budgetMs));
    // The outputs build redisUrl from the password; should they ever differ, both are proven.
    const inUrl = decodeURIComponent(new URL(handOut.redisUrl).password);
    if (handOut.password !== undefined && handOut.password !== inUrl) {
      const url = new URL(handOut.redisUrl);
      url.password = encodeURIComponent(handOut.password);
      proofs.push(proveRedisUrl(url.toString(), `prove ${password}`, budgetMs));
    }
  } else if (handOut.password !== undefined) {
    throw new PortableError(
      `Cannot prove the new password of ${what}: no Redis URL tells where to connect.`,
    );
  }
  const failures = (await Promise.allSettled(proofs)).flatMap((settled) =>
    settled.status === "rejected" ? [settled.reason as unknown] : [],
  );
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new CredentialProofError(failures);
}
