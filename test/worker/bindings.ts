/** Keys and settings for the tests that run inside workerd (never used by a deployment). */
export const test_keys = {
  "test-all": "test-key-all",
  "test-read": "test-key-read",
  "test-append": "test-key-append",
  "test-one-ledger": "test-key-one-ledger",
} as const;

export const worker_test_bindings = {
  LEDGER_API_KEYS: JSON.stringify([
    {
      name: "test-all",
      sha256: "31a65195ae16798d1e0d6d435b997168cc1cc4175b7f8a46c1484ed962f7c041",
      scopes: ["append", "read", "admin"],
      ledgers: ["*"],
    },
    {
      name: "test-read",
      sha256: "bbacdaf9b396472c47034f9694f1dfa54628788be7f8b17ed3e282aae0ebf97d",
      scopes: ["read"],
      ledgers: ["*"],
    },
    {
      name: "test-append",
      sha256: "1f3722bf77afe7ad7ac00cc11cd593dc8ff95e742df47e8f9e3d2393b47428f8",
      scopes: ["append"],
      ledgers: ["*"],
    },
    {
      name: "test-one-ledger",
      sha256: "8c0b98d95979d4aae826d95d7b7c7f98f4d311da21dde4aa9251301532bbc112",
      scopes: ["append", "read", "admin"],
      ledgers: ["only-this-ledger"],
    },
  ]),
  ALLOW_FAULT_INJECTION: "true",
};
