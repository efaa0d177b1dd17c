import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
// e.g. organization/producer/dev on a local backend.
const producer = new pulumi.StackReference(config.require("producerStack"));

// Still secret here: hand it to whatever runs the application (a secret store, a deployment).
export const appEnv = producer.getOutput("redisEnv");
export const producerRotatedAt = producer.getOutput("rotatedAt");
