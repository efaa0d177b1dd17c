import { hasUpstashCode, messageOf, PortableError, type UpstashApiError } from "../http/errors";
import { isLibraryMissing } from "../libraries";

const reasonOf = (cause: unknown): string =>
  typeof cause === "string" ? cause : (messageOf(cause) ?? "unknown error");

/**
 * A rotation whose new credentials could not be recorded: the reset happened
 * (`RotatedButUnreadError`) or may have (`ResetOutcomeUnknownError`). The
 * provider turns either into a partial failure that records no credentials,
 * and `pulumi refresh` or the next `pulumi up` settles it without a second reset.
 */
export abstract class UnrecordedRotationError extends PortableError {
  readonly cause: UpstashApiError | undefined;
  constructor(message: string, cause: unknown) {
    super(message);
    this.cause = hasUpstashCode(cause) ? cause : undefined;
  }
}

const SETTLE_ADVICE =
  "Run `pulumi refresh` or `pulumi up` again: they read the live credentials and record them, and reset only if the reset is proven not to have happened.";

/** The reset went through but its new credentials could not be read: the old ones are already dead. */
export class RotatedButUnreadError extends UnrecordedRotationError {
  constructor(what: string, cause: unknown) {
    super(
      `The credentials of ${what} were rotated (the previous ones no longer work), but reading the new ones back failed: ${reasonOf(cause)} ${SETTLE_ADVICE}`,
      cause,
    );
    this.name = "RotatedButUnreadError";
  }
}

/**
 * The reset got no usable answer and whether it took effect is not settled:
 * reading the live credentials failed, or they have not changed (yet).
 */
export class ResetOutcomeUnknownError extends UnrecordedRotationError {
  constructor(what: string, resetError: unknown, finding: string, cause?: unknown) {
    super(
      `The reset of ${what} got no usable answer (${reasonOf(resetError)}), so the previous credentials may stop working; ${finding.replace(/\.+$/, "")}. It is not sent again blindly. ${SETTLE_ADVICE}`,
      cause ?? resetError,
    );
    this.name = "ResetOutcomeUnknownError";
  }
}

/** Upstash answered the reset, but the credentials it reports afterwards are still the previous ones. */
export class ResetNotObservedError extends UnrecordedRotationError {
  constructor(what: string) {
    super(
      `Upstash answered the reset of ${what}, but still reports the previous credentials, so whether they stopped working is not known. ${SETTLE_ADVICE}`,
      undefined,
    );
    this.name = "ResetNotObservedError";
  }
}

/**
 * The reset happened, but the data plane refused the new credential (proved
 * with the credential itself, with retries for propagation): a reset cannot
 * be rolled back, so nothing is handed out until the credential proves valid.
 */
export class CredentialRejectedError extends UnrecordedRotationError {
  constructor(what: string, cause: unknown) {
    super(
      `The credentials of ${what} were rotated (the previous ones no longer work), but ${isLibraryMissing(cause) ? "the new credential could not be proven" : "the data plane rejected the new credential"}: ${reasonOf(cause)} No credential is handed out (consumers get none rather than a dead one). Run \`pulumi up\` again: it records the live credentials once the data plane accepts them, without another reset (\`verify: false\` skips this proof, e.g. on a runner without egress to the data plane).`,
      undefined,
    );
    this.name = "CredentialRejectedError";
  }
}

/**
 * Credential Protection: the reset happened, and its answer, the only place
 * Upstash shows the new credentials, did not carry them.
 */
export class CredentialsShownOnceError extends UnrecordedRotationError {
  constructor(what: string) {
    super(
      `The credentials of ${what} were reset (the previous ones no longer work), but the reset's answer did not carry the new ones, and with Upstash's Credential Protection they are shown only there, never again. No credential is handed out. Run \`pulumi up\` again: nobody holds the lost credentials, so it resets once more and hands out what that reset answers.`,
      undefined,
    );
    this.name = "CredentialsShownOnceError";
  }
}

const UNRECORDED = [
  "CredentialsShownOnceError",
  "RotatedButUnreadError",
  "ResetOutcomeUnknownError",
  "ResetNotObservedError",
  "CredentialRejectedError",
];

/** Whether `error` is an `UnrecordedRotationError`, by name (see `hasUpstashCode` on `instanceof`). */
export function isUnrecordedRotation(error: unknown): error is UnrecordedRotationError {
  const name = (error as { name?: unknown } | null)?.name;
  return messageOf(error) !== undefined && UNRECORDED.includes(String(name));
}

/** Whether the reset behind `error` may still take effect: sent, but neither answered nor seen. */
export function mayStillLand(error: unknown): error is UnrecordedRotationError {
  return (
    isUnrecordedRotation(error) &&
    (error.name === "ResetOutcomeUnknownError" || error.name === "ResetNotObservedError")
  );
}

/** Backward-compatible name of {@link isUnrecordedRotation}'s narrower 0.1.0 form. */
export function isRotatedButUnread(error: unknown): error is RotatedButUnreadError {
  return isUnrecordedRotation(error) && error.name === "RotatedButUnreadError";
}

/**
 * A 404 that could not be confirmed as a deletion by the account's list (a
 * wrong `UPSTASH_API_URL` answers 404 to both): refresh keeps the resource and
 * delete does not report a revocation that never happened. An API key of
 * another team whose own list is readable cannot be told apart this way.
 */
export class AbsenceUnprovenError extends PortableError {
  readonly code = "absence_unproven";
  constructor(what: string, notFound: unknown, evidence: string) {
    super(
      `${what}: ${hasUpstashCode(notFound) ? `${notFound.operation} answered` : "the API answered"} HTTP 404, but that does not prove it was deleted: ${evidence}. Nothing was changed or removed from state. Check UPSTASH_API_URL (it must not end in /v2) and that the API key belongs to the account or team that owns it.`,
    );
    this.name = "AbsenceUnprovenError";
  }
}
