/**
 * What reading an append body costs: `JSON.parse` alone, and `parseJsonBody` (strict UTF-8 decode,
 * JSON.parse, and the repeated-key scan), on one entry and on a 1,000-entry batch. Run:
 *   npm exec -- tsx bench/json-body.ts
 * The numbers are per body, the median of `runs` timed loops, on this machine's Node.
 */
import { parseJsonBody } from "../src/proposer/json-body.js";

const runs = 15;
const iterations_per_run = 40;

function entry(i: number): Record<string, unknown> {
  return {
    id: `XNAS:exec-${i}`,
    account: "ACC-1",
    symbol: "AAPL",
    side: "buy",
    quantity: "100",
    price: "187.25",
    fee: "1.00",
    currency: "USD",
    tradeTime: "2026-11-26T14:30:00Z",
    metadata: { desk: "eq", trader: "abc", note: "x".repeat(200) },
  };
}

function median_ms(work: () => void): number {
  for (let i = 0; i < iterations_per_run; i++) work(); // warm up
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations_per_run; i++) work();
    samples.push((performance.now() - start) / iterations_per_run);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

for (const [name, body] of [
  ["one entry", entry(1)],
  ["1,000 entries", { entries: Array.from({ length: 1000 }, (_, i) => entry(i)) }],
] as const) {
  const text = JSON.stringify(body);
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  const plain = median_ms(() => JSON.parse(decoder.decode(bytes)));
  const strict = median_ms(() => {
    if (!parseJsonBody(bytes).ok) throw new Error("the bench body must parse");
  });
  console.log(
    `${name} (${bytes.length} bytes): decode + JSON.parse ${plain.toFixed(3)} ms, parseJsonBody ${strict.toFixed(3)} ms (x${(strict / plain).toFixed(2)})`,
  );
}
