import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
// The quickstart stack: organization/<project>/<stack> on a self-managed backend,
// <your-org>/upstash-quickstart/<stack> on Pulumi Cloud.
const producer = new pulumi.StackReference(
  config.get("producerStack") ?? "organization/upstash-quickstart/dev",
);

// Still secret here: hand them to whatever runs the application (a secret store, a deployment),
// and redeploy it after every rotation, since the old credentials stop working at once.
export const redisEnv = producer.requireOutput("redisEnv");
export const token = producer.requireOutput("token");
export const producerRotationCount = producer.getOutput("rotationCount");
