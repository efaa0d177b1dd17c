import assert from "assert";
import { apiBaseUrl, DEFAULT_API_URL } from "../../provider/apiUrl";
import { CredentialsConfigurationError } from "../../provider/http/errors";

/** Asserts that `value` is refused with a message naming UPSTASH_API_URL and matching `pattern`. */
function refuses(value: string, pattern: RegExp, secrets: string[] = []): void {
  assert.throws(
    () => apiBaseUrl(value),
    (error: unknown) => {
      assert.ok(error instanceof CredentialsConfigurationError, `${value}: ${String(error)}`);
      assert.strictEqual(error.name, "CredentialsConfigurationError");
      assert.match(error.message, /UPSTASH_API_URL/);
      assert.match(error.message, pattern);
      for (const secret of secrets) assert.ok(!error.message.includes(secret), error.message);
      return true;
    },
    value,
  );
}

describe("apiBaseUrl", () => {
  it("defaults to the public API when unset or blank", () => {
    assert.strictEqual(DEFAULT_API_URL, "https://api.upstash.com");
    for (const value of [undefined, "", "   ", "\n\t"]) {
      assert.strictEqual(apiBaseUrl(value), "https://api.upstash.com", JSON.stringify(value));
    }
  });

  it("trims and strips trailing slashes", () => {
    assert.strictEqual(apiBaseUrl("  https://api.upstash.com/  "), "https://api.upstash.com");
    assert.strictEqual(apiBaseUrl("https://api.upstash.com///"), "https://api.upstash.com");
    assert.strictEqual(
      apiBaseUrl("https://proxy.example.com:8443/upstash/"),
      "https://proxy.example.com:8443/upstash",
    );
    assert.strictEqual(apiBaseUrl("HTTPS://API.Upstash.COM"), "https://api.upstash.com");
  });

  it("accepts http:// only to a loopback address", () => {
    for (const [given, expected] of [
      ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
      ["http://127.45.6.7:1/", "http://127.45.6.7:1"],
      ["http://localhost:4010/", "http://localhost:4010"],
      ["http://LOCALHOST", "http://localhost"],
      ["http://[::1]:9000", "http://[::1]:9000"],
    ]) {
      assert.strictEqual(apiBaseUrl(given), expected);
    }
    for (const value of [
      "http://api.upstash.com",
      "http://10.0.0.5:8080",
      "http://128.0.0.1",
      "http://localhost.example.com",
      "http://[::2]",
      "http://127.0.0.1.nip.io",
    ]) {
      refuses(value, /https:\/\/.*clear|clear.*https:\/\//);
    }
  });

  it("refuses a value that is not a URL, naming the variable but not the value", () => {
    for (const value of ["SECRET-host.example.com", "not a url SECRET", "https://", "://SECRET"]) {
      refuses(value, /not a valid URL/, ["SECRET"]);
    }
  });

  it("refuses schemes other than http and https", () => {
    for (const value of ["ftp://api.upstash.com", "file:///etc/passwd", "ws://localhost:1"]) {
      refuses(value, /http:\/\/ or https:\/\//);
    }
  });

  it("refuses the /v2 suffix, pointing at the base URL", () => {
    for (const value of [
      "https://api.upstash.com/v2",
      "https://api.upstash.com/v2/",
      " https://api.upstash.com/V2// ",
    ]) {
      refuses(
        value,
        /UPSTASH_API_URL must not include the \/v2 suffix; use https:\/\/api\.upstash\.com\b/,
      );
    }
    refuses("http://127.0.0.1:8080/proxy/v2", /suffix; use http:\/\/127\.0\.0\.1:8080\/proxy\b/);
    assert.strictEqual(apiBaseUrl("https://api.upstash.com/v2x"), "https://api.upstash.com/v2x");
  });

  it("refuses credentials in the URL without echoing them", () => {
    for (const value of [
      "https://ops%40example.com:SECRET-KEY-1@api.upstash.com",
      "https://SECRET-USER-2@api.upstash.com",
      "https://:SECRET-PASS-3@api.upstash.com/v2",
      "http://SECRET-USER-4:SECRET-PASS-4@example.com",
    ]) {
      refuses(value, /credentials/, [
        "SECRET-KEY-1",
        "SECRET-USER-2",
        "SECRET-PASS-3",
        "SECRET-USER-4",
        "SECRET-PASS-4",
        "ops%40example.com",
        "ops@example.com",
      ]);
    }
  });

  it("refuses a query or a fragment without echoing it", () => {
    for (const value of [
      "https://api.upstash.com?token=SECRET-Q",
      "https://api.upstash.com/?",
      "https://api.upstash.com/#SECRET-F",
      "https://api.upstash.com#",
    ]) {
      refuses(value, /query or fragment/, ["SECRET-Q", "SECRET-F"]);
    }
  });
});
