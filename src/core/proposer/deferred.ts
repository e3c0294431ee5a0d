/** A promise with its resolvers, made by hand (no `Promise.withResolvers` in every runtime we target). */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A request whose isolate went away (or whose client stopped waiting) may never read its outcome:
  // its rejection is then expected, not an unhandled one. Whoever awaits `promise` still gets it.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
