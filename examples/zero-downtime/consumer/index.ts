import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
// e.g. organization/zero-downtime-producer/dev on a local backend.
const producer = new pulumi.StackReference(config.require("producerStack"));

// Still secret here: hand them to whatever runs the application (a secret store, a
// deployment). The previous password keeps working until the producer's next rotation, so
// rolling this out any time before then loses no request.
export const appEnv = producer.getOutput("redisEnv");
export const signingKeysEnv = producer.getOutput("signingKeysEnv");
export const producerRotatedAt = producer.getOutput("rotatedAt");
