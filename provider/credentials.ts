import type { ManagementCredentials } from "./http/client";
import { credentialSourceList, type CredentialSource } from "./credentialSources";
import { CredentialsConfigurationError } from "./http/errors";
import { UNKNOWN_VALUE } from "./trigger";

/** A credential source with what it holds now; either field may be missing. */
export interface CredentialTier extends CredentialSource {
  email?: string;
  apiKey?: string;
}

/** What `configure` saw in the stack config; kept per process, read by every operation. */
export function rememberConfiguredCredentials(email?: string, apiKey?: string): void {
  const registry = globalThis as unknown as Record<string, unknown>;
  registry.__upstashCredentialRotationConfig = { email, apiKey };
}

/**
 * The sources of ./credentialSources with what each holds now, in precedence
 * order: resource inputs, then stack config (`upstash:email`/`upstash:apiKey`,
 * via the dynamic provider's `configure`; the plugin has none), then the
 * environment (`UPSTASH_EMAIL`/`UPSTASH_API_KEY`). Read at call time, never at
 * module load, so nothing secret is captured in the serialized provider.
 */
export function credentialTiers(inputs: { email?: string; apiKey?: string }): CredentialTier[] {
  const registry = globalThis as unknown as Record<string, unknown>;
  const config = (registry.__upstashCredentialRotationConfig ?? {}) as {
    email?: string;
    apiKey?: string;
  };
  const held: Record<CredentialSource["source"], { email?: string; apiKey?: string }> = {
    "resource inputs": inputs,
    "stack config": config,
    environment: { email: process.env.UPSTASH_EMAIL, apiKey: process.env.UPSTASH_API_KEY },
  };
  return credentialSourceList().map((source) => ({
    ...source,
    email: held[source.source].email,
    apiKey: held[source.source].apiKey,
  }));
}

const isSet = (value: string | undefined): boolean => value !== undefined && value.trim() !== "";

/**
 * The first tier with anything set wins, and must be complete: an email from
 * one place is never paired with a key from another (as in upstash/cli).
 * Returns the credentials, or the problem in words; `pending` when the winning
 * tier holds values not known yet (preview).
 */
export function selectCredentials(
  tiers: CredentialTier[],
): { credentials: ManagementCredentials } | { problem: string; property: string } | "pending" {
  for (const tier of tiers) {
    const hasEmail = isSet(tier.email);
    const hasKey = isSet(tier.apiKey);
    if (!hasEmail && !hasKey) continue;
    if (tier.email === UNKNOWN_VALUE || tier.apiKey === UNKNOWN_VALUE) return "pending";
    if (hasEmail && hasKey) {
      return { credentials: { email: String(tier.email), apiKey: String(tier.apiKey) } };
    }
    const [given, missing] = hasEmail
      ? [tier.emailName, tier.apiKeyName]
      : [tier.apiKeyName, tier.emailName];
    return {
      property: tier.source === "resource inputs" ? missing : "apiKey",
      problem: `${given} is set in the ${tier.source} but ${missing} is not. Set both there: credentials are never combined from different places.`,
    };
  }
  return {
    property: "apiKey",
    problem: `No Upstash management credentials: ${tiers.map((tier) => tier.howToSet).join(", or ")}.`,
  };
}

/** The credentials to use now, or a `CredentialsConfigurationError`. */
export function resolveCredentials(inputs: {
  email?: string;
  apiKey?: string;
}): ManagementCredentials {
  const selected = selectCredentials(credentialTiers(inputs));
  if (selected === "pending") {
    throw new CredentialsConfigurationError("The management credentials are not known yet.");
  }
  if ("problem" in selected) throw new CredentialsConfigurationError(selected.problem);
  return selected.credentials;
}
