/**
 * The part of `node:async_hooks` that workerd provides with the `nodejs_als` compatibility flag
 * (wrangler.toml) and that the Worker uses. The Worker's tsconfig does not load @types/node: the
 * Worker is not a Node program, and this keeps every other Node API out of its reach.
 */
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, callback: () => R): R;
  }
}
