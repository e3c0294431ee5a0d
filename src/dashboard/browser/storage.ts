/**
 * What the page remembers: the API key in sessionStorage (this tab only, gone when it closes), the
 * ledger and account names in localStorage (they are not secret). Storage may be disabled or full:
 * the page then works for this visit without remembering.
 */

export const key_storage = "quorum-ledger.dashboard.key";
export const ledger_storage = "quorum-ledger.dashboard.ledger";
export const account_storage = "quorum-ledger.dashboard.account";

export function storageGet(storage: Storage, name: string): string {
  try {
    return storage.getItem(name) ?? "";
  } catch {
    return ""; // storage disabled
  }
}

/** Stores `value`, or removes the item when `value` is empty. */
export function storageSet(storage: Storage, name: string, value: string): void {
  try {
    if (value === "") storage.removeItem(name);
    else storage.setItem(name, value);
  } catch {
    // storage disabled or full: the page still works for this visit
  }
}
