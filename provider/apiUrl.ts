import { credentialSources } from "./credentialSources";
import { CredentialsConfigurationError } from "./http/errors";

/** The Upstash Developer API, without the `/v2` prefix that every request path carries. */
export const DEFAULT_API_URL = "https://api.upstash.com";

/** What a base-URL variable is for, for its messages. */
interface BaseUrlUse {
  variable: string;
  example: string;
  /** Where credentials come from instead of the URL's userinfo (read when a message needs it). */
  credentialsFrom: () => string;
  /** What `http://` would expose, e.g. "the management API key". */
  exposes: string;
}

const API_URL: BaseUrlUse = {
  variable: "UPSTASH_API_URL",
  example: DEFAULT_API_URL,
  credentialsFrom: () => `the management credentials come from ${credentialSources()}`,
  exposes: "the management API key",
};

/** Whether a URL's host is loopback (`localhost`, `127.0.0.0/8`, `[::1]`). */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * A validated absolute base URL (no trailing slashes), or a
 * `CredentialsConfigurationError` naming `use.variable` whose message never
 * repeats the value's userinfo, query or fragment.
 */
function baseUrl(text: string, use: BaseUrlUse): URL {
  const { variable, example } = use;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CredentialsConfigurationError(
      `${variable} is not a valid URL; set it to an absolute base URL such as ${example}, or unset it.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CredentialsConfigurationError(
      `${variable} must start with http:// or https://, not ${url.protocol}//; e.g. ${example}.`,
    );
  }
  if (url.username !== "" || url.password !== "" || /^[a-z]+:\/\/[^/?#]*@/i.test(text)) {
    throw new CredentialsConfigurationError(
      `${variable} must not contain credentials (user:pass@): ${use.credentialsFrom()}.`,
    );
  }
  if (/[?#]/.test(text)) {
    throw new CredentialsConfigurationError(
      `${variable} must not have a query or fragment (?… or #…); set only the base URL, e.g. ${example}.`,
    );
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new CredentialsConfigurationError(
      `${variable} uses http:// to ${url.host}, which would send ${use.exposes} in clear text; use https://, or http:// only to a loopback address (localhost, 127.0.0.1, [::1]).`,
    );
  }
  return url;
}

/**
 * The base URL of the Upstash Developer API from `UPSTASH_API_URL`: trimmed,
 * without trailing slashes, and {@link DEFAULT_API_URL} when unset or blank.
 *
 * Throws a `CredentialsConfigurationError`, whose message never repeats the
 * value's userinfo, query or fragment, when the value:
 * - is not an absolute `http://` or `https://` URL;
 * - carries credentials (`user:pass@`), a query or a fragment;
 * - uses `http://` to a host other than loopback (`localhost`, `127.0.0.0/8`,
 *   `[::1]`): the management API key would travel in clear text;
 * - ends with `/v2`: request paths already start with `/v2`, so every call
 *   would go to `/v2/v2/...` (the OpenAPI file's server URL does include it).
 */
export function apiBaseUrl(value: string | undefined): string {
  const text = (value ?? "").trim();
  if (text === "") return DEFAULT_API_URL;
  const url = baseUrl(text, API_URL);
  const path = url.pathname.replace(/\/+$/, "");
  if (/\/v2$/i.test(path)) {
    throw new CredentialsConfigurationError(
      `UPSTASH_API_URL must not include the /v2 suffix; use ${url.origin}${path.slice(0, -3)} (every request path already starts with /v2).`,
    );
  }
  return `${url.origin}${path}`;
}

/**
 * The data-plane override from `UPSTASH_DATA_PLANE_URL` (e.g.
 * `http://127.0.0.1:8787/data-plane`, which the local emulator serves), or
 * `undefined` when unset: what would go to `https://<host><path>` goes to
 * `<override>/<host><path>`. Validated like `UPSTASH_API_URL` (no `/v2` rule):
 * `http://` only to loopback, since the calls carry Bearer tokens.
 */
export function dataPlaneOverride(value: string | undefined): string | undefined {
  const text = (value ?? "").trim();
  if (text === "") return undefined;
  const url = baseUrl(text, {
    variable: "UPSTASH_DATA_PLANE_URL",
    example: "http://127.0.0.1:8787/data-plane",
    credentialsFrom: () => "data-plane calls authenticate with the target's own tokens",
    exposes: "the credentials being verified",
  });
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
