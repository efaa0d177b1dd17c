/**
 * Messages an operation has for the person running `pulumi up` or `pulumi
 * refresh` that are not errors: credentials found dead by a refresh, a healed
 * password, a signing-key roll left pending. The provider plugin shows them in
 * the engine's output; a dynamic provider has no way to (pulumi/pulumi#6065),
 * so there they go nowhere. A notice never carries a credential.
 */
import { AsyncLocalStorage } from "async_hooks";

export type NoticeSeverity = "info" | "warning";

/** Where one operation's notices go. */
export type NoticeSink = (severity: NoticeSeverity, message: string) => void;

const sinks = new AsyncLocalStorage<NoticeSink>();

/** Runs `operation` with its notices sent to `sink`. */
export function withNotices<T>(sink: NoticeSink, operation: () => Promise<T>): Promise<T> {
  return sinks.run(sink, operation);
}

/** Tells the user something about the operation under way, where a front door can show it. */
export function notify(severity: NoticeSeverity, message: string): void {
  sinks.getStore()?.(severity, message);
}
