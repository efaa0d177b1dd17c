/**
 * Messages to the engine's `Log` call, shown in `pulumi up` and `pulumi
 * refresh` beside the resource. The Node provider server points `pulumi.log`
 * at the engine only for construct and call, not for create, read, update or
 * delete, so the plugin opens that connection itself.
 */
import { createRequire } from "module";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineProto from "@pulumi/pulumi/proto/engine_pb";
import type { NoticeSink } from "../notices";

// The gRPC library @pulumi/pulumi itself talks through, so that both agree on the wire.
const grpc = createRequire(require.resolve("@pulumi/pulumi"))(
  "@grpc/grpc-js",
) as typeof import("@grpc/grpc-js");

/** A sink that logs each notice against `urn`; without an engine address, notices go nowhere. */
export function engineLogSink(engineAddress: string | undefined): (urn: string) => NoticeSink {
  if (!engineAddress) return () => () => undefined;
  const engine = new engineRpc.EngineClient(engineAddress, grpc.credentials.createInsecure());
  return (urn) => (severity, message) => {
    const request = new engineProto.LogRequest();
    request.setSeverity(
      severity === "warning" ? engineProto.LogSeverity.WARNING : engineProto.LogSeverity.INFO,
    );
    request.setMessage(message);
    request.setUrn(urn);
    // A notice that cannot be shown must not fail the operation it describes.
    engine.log(request, () => undefined);
  };
}
