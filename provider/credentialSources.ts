/**
 * Which places a front door reads management credentials from, for every
 * message that tells a user where to set them. The provider plugin reads no
 * provider configuration (the Node provider server ignores it,
 * pulumi/pulumi#10915), so no message may send its users to `upstash:*`
 * stack config. Kept free of imports: the HTTP errors and the credential
 * precedence both read it.
 */
const REGISTRY_KEY = "__upstashCredentialRotationNoStackConfig";

/** Declares that this process serves the plugin: there is no stack-config tier. */
export function withoutStackConfigTier(): void {
  (globalThis as Record<string, unknown>)[REGISTRY_KEY] = true;
}

/** Whether `upstash:email`/`upstash:apiKey` stack config is read (the dynamic provider). */
export function readsStackConfig(): boolean {
  return (globalThis as Record<string, unknown>)[REGISTRY_KEY] !== true;
}

/** The places, in precedence order, as a message names them. */
export function credentialSources(): string {
  return readsStackConfig()
    ? "the email/apiKey inputs, upstash:email/upstash:apiKey stack config, or UPSTASH_EMAIL/UPSTASH_API_KEY"
    : "the email/apiKey inputs or UPSTASH_EMAIL/UPSTASH_API_KEY";
}
