/**
 * Messages to the engine's `Log` call, shown in `pulumi up` and `pulumi
 * refresh` beside the resource. The Node provider server points `pulumi.log`
 * at the engine only for construct and call, not for create, read, update or
 * delete, so the plugin opens that connection itself.
 */
import { createRequire } from "module";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineProto from "@pulumi/pulumi/proto/engine_pb";
import type { NoticeSeverity, NoticeSink } from "../notices";

// The gRPC library @pulumi/pulumi itself talks through, so that both agree on the wire.
const grpc = createRequire(require.resolve("@pulumi/pulumi"))(
  "@grpc/grpc-js",
) as typeof import("@grpc/grpc-js");

/** A plugin's stderr reaches the user too (the engine relays it): the fallback. */
function toStderr(severity: NoticeSeverity, message: string): void {
  process.stderr.write(`${severity}: ${message}\n`);
}

/**
 * A sink that logs each notice against `urn`. Without an engine address, or
 * when the engine does not take the message, it goes to stderr instead:
 * a notice never fails the operation it describes, and is never lost quietly.
 */
export function engineLogSink(engineAddress: string | undefined): (urn: string) => NoticeSink {
  if (!engineAddress) return () => toStderr;
  const engine = new engineRpc.EngineClient(engineAddress, grpc.credentials.createInsecure());
  return (urn) => (severity, message) => {
    const request = new engineProto.LogRequest();
    request.setSeverity(
      severity === "warning" ? engineProto.LogSeverity.WARNING : engineProto.LogSeverity.INFO,
    );
    request.setMessage(message);
    request.setUrn(urn);
    return new Promise<void>((resolve) => {
      engine.log(request, (error) => {
        if (error) toStderr(severity, message);
        resolve();
      });
    });
  };
}
