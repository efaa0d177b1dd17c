/**
 * Sets environment variables (an empty string unsets one) and returns a
 * function that puts back what was there before.
 */
export function setEnvironment(values: Record<string, string>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    saved[name] = process.env[name];
    if (value === "") delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** For a mocha suite: `values` before each test (tests may change them), the old ones after the suite. */
export function useEnvironment(values: Record<string, string>): void {
  let restore: (() => void) | undefined;
  beforeEach(() => {
    const undo = setEnvironment(values);
    restore ??= undo;
  });
  after(() => restore?.());
}
