/** Poll `condition` every 20 ms until it holds; throw past `timeoutMs` (every wait is bounded). */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Read `value` every 50 ms until `accept` holds; returns the last value read (checked by the caller). */
export async function settle<T>(value: () => Promise<T>, accept: (read: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let read = await value();
  while (!accept(read) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    read = await value();
  }
  return read;
}
