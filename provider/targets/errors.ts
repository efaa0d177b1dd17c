import { hasUpstashCode, messageOf, PortableError, type UpstashApiError } from "../http/errors";

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

/** The reset's answer was lost and reading the live credentials to find out failed too. */
export class ResetOutcomeUnknownError extends UnrecordedRotationError {
  constructor(what: string, resetError: unknown, readError: unknown) {
    super(
      `The reset of ${what} got no answer (${reasonOf(resetError)}), so the previous credentials may no longer work, and reading the live ones to find out failed: ${reasonOf(readError)} ${SETTLE_ADVICE}`,
      readError,
    );
    this.name = "ResetOutcomeUnknownError";
  }
}

const UNRECORDED = ["RotatedButUnreadError", "ResetOutcomeUnknownError"];

/** Whether `error` is an `UnrecordedRotationError`, by name (see `hasUpstashCode` on `instanceof`). */
export function isUnrecordedRotation(error: unknown): error is UnrecordedRotationError {
  const name = (error as { name?: unknown } | null)?.name;
  return messageOf(error) !== undefined && UNRECORDED.includes(String(name));
}

/** Backward-compatible name of {@link isUnrecordedRotation}'s narrower 0.1.0 form. */
export function isRotatedButUnread(error: unknown): error is RotatedButUnreadError {
  return isUnrecordedRotation(error) && error.name === "RotatedButUnreadError";
}

/**
 * A 404 that could not be confirmed as a deletion. A wrong `UPSTASH_API_URL`,
 * or an API key of another team, also answers 404: refresh keeps the resource
 * and delete does not report a rotation that never happened.
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
