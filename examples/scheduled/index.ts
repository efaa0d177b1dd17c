// In your own project: from "pulumi-upstash-credential-rotation".
import { CredentialRotation, rotationWindow } from "../../provider";

// Same value for 30 days, so nightly runs are no-ops until the window rolls over.
const qstash = new CredentialRotation("qstash", {
  target: { type: "qstash" },
  trigger: rotationWindow("30d"),
  onDelete: "rotate",
});

export const qstashToken = qstash.token;
export const rotationCount = qstash.rotationCount;
