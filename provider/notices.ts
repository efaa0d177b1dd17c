/**
 * Messages an operation has for the person running `pulumi up` or `pulumi
 * refresh` that are not errors: credentials found dead by a refresh, a healed
 * password, a signing-key roll left pending. The provider plugin shows them in
 * the engine's output; a dynamic provider has no way to (pulumi/pulumi#6065),
 * so there they go nowhere. A notice never carries a credential.
 */
import { AsyncLocalStorage } from "async_hooks";
import { setTimeout as pause } from "timers/promises";

export type NoticeSeverity = "info" | "warning";

/** Where one operation's notices go; a promise while the message is still on its way. */
export type NoticeSink = (severity: NoticeSeverity, message: string) => void | Promise<void>;

/** How long an operation waits, after it is done, for its notices to be delivered. */
const DELIVERY_WAIT_MS = 2000;

const sinks = new AsyncLocalStorage<NoticeSink>();

/**
 * Runs `operation` with its notices sent to `sink`, and gives them a moment
 * to arrive before answering: the engine may end the plugin right after.
 */
export async function withNotices<T>(sink: NoticeSink, operation: () => Promise<T>): Promise<T> {
  const pending: Promise<void>[] = [];
  const collecting: NoticeSink = (severity, message) => {
    const delivery = sink(severity, message);
    if (delivery) pending.push(delivery);
  };
  try {
    return await sinks.run(collecting, operation);
  } finally {
    if (pending.length > 0) {
      await Promise.race([
        Promise.allSettled(pending),
        pause(DELIVERY_WAIT_MS, undefined, { ref: false }),
      ]);
    }
  }
}

/** Tells the user something about the operation under way, where a front door can show it. */
export function notify(severity: NoticeSeverity, message: string): void {
  void sinks.getStore()?.(severity, message);
}
