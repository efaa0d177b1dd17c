/**
 * The `status` output: one sentence on where the credentials stand and what
 * the next `pulumi up` does about it. A dynamic provider cannot log to the
 * engine (pulumi/pulumi#6065), so this plain output is how `pulumi refresh
 * --diff`, `pulumi preview --diff` and `pulumi stack output` explain a state
 * that changed. It is derived from the state alone, so an unchanged state
 * gives an unchanged status and a refresh that finds nothing shows nothing.
 */
import type { RotationState } from "./common";
import { lateLandingEnd } from "./exactlyOnce";

type StatusInput = Partial<Omit<RotationState, "target">> & { target?: unknown };

function windowEnd(since: string): string {
  // No clock: the status is derived from the state alone.
  const end = lateLandingEnd(since, Number.POSITIVE_INFINITY);
  return end === undefined ? "the late-landing window ends" : new Date(end).toISOString();
}

function signingKeysStatus(state: StatusInput): string {
  if (state.unknownOutcomeAt) {
    return `A roll sent at ${state.unknownOutcomeAt} got no clear answer. The keys handed out stay valid either way (receivers also verify with the next key). The next \`pulumi up\` waits until ${windowEnd(state.unknownOutcomeAt)} for it, records it if it landed, and otherwise rolls once.`;
  }
  if (state.currentSigningKey === undefined) {
    return "A roll was not confirmed, so no keys are handed out. The next `pulumi up` records the live keys without rolling again.";
  }
  if (state.pendingRollSince) {
    return `A trigger change is pending since ${state.pendingRollSince}: the keys of an earlier unconfirmed roll were handed out first. It rolls at a \`pulumi up\` once minRollInterval has passed from then; until then, every \`up\` refuses it.`;
  }
  const lastRoll = state.rotatedAt ? Date.parse(state.rotatedAt) : Number.NaN;
  const observed = state.rollObservedAt ? Date.parse(state.rollObservedAt) : Number.NaN;
  if (!Number.isNaN(observed) && (Number.isNaN(lastRoll) || observed > lastRoll)) {
    return (state.rotationCount ?? 0) === 0
      ? `Keys adopted as they were at ${state.rollObservedAt}; this resource has not rolled them (rotatedAt stays empty until it does). A trigger change rolls them once, no sooner than minRollInterval after that time.`
      : `Keys rolled outside Pulumi were seen at ${state.rollObservedAt} and recorded; roll them out to every receiver. The next roll waits for minRollInterval from that time.`;
  }
  return `Keys current: rolled by this resource at ${state.rotatedAt} (roll ${state.rotationCount ?? 0}).`;
}

function aclStatus(state: StatusInput): string | undefined {
  if (state.token !== undefined) {
    if (state.aclPasswords?.undelivered) {
      return "A password recorded by a run that failed part-way is not handed out yet; consumers still hold the previous one, which works. The next `pulumi up` hands it out.";
    }
    return undefined;
  }
  if (state.aclPasswords?.current === undefined && (state.rotationCount ?? 0) > 0) {
    return "The password this resource handed out no longer works (removed outside Pulumi, or the user was deleted or disabled), so none is handed out. The next `pulumi up` issues a new one.";
  }
  return undefined;
}

/** The `status` sentence for `state`. */
export function statusOf(state: StatusInput): string {
  const target = state.target as { type?: string; user?: string } | undefined;
  if (target?.type === "qstash-signing-keys") return signingKeysStatus(state);
  if (state.unknownOutcomeAt) {
    const handedOut =
      state.token !== undefined
        ? "the credentials handed out still work"
        : "no credential that may be dead is handed out";
    return `A change sent at ${state.unknownOutcomeAt} got no clear answer and may still land; ${handedOut}. The next \`pulumi up\` waits until ${windowEnd(state.unknownOutcomeAt)} for it, records it if it landed, and otherwise sends it once.`;
  }
  if (state.pendingRotation) {
    return "A rotation did not finish, so no credential is handed out. The next `pulumi up` (or `pulumi refresh`) records the live credentials, and resets only if the last reset never took effect.";
  }
  const acl = target?.user ? aclStatus(state) : undefined;
  if (acl) return acl;
  if (state.token === undefined) {
    return state.changedOutsideAt
      ? `The credentials this resource handed out stopped working at or before ${state.changedOutsideAt} (reset outside Pulumi) and cannot be read back, so none are handed out. The next \`pulumi up\` resets once and hands out the new ones.`
      : "No credential is handed out: the last run did not finish. The next `pulumi up` issues one.";
  }
  if (state.changedOutsideAt) {
    return `The credentials were changed outside Pulumi (seen at ${state.changedOutsideAt}); the state holds the live ones. Run \`pulumi up\` to pass them on to stack outputs and dependents.`;
  }
  return (state.rotationCount ?? 0) === 0
    ? "Credentials current: read from Upstash; this resource has not rotated them."
    : `Credentials current and proven; this resource's last rotation was at ${state.rotatedAt} (rotation ${state.rotationCount}).`;
}
