/**
 * The client SDK in plain Node, with Node's own global fetch, against the app under `wrangler dev`:
 * it appends, reads back with client-side hash-chain verification, streams replayed and live
 * entries, and reports a refused key and an unreachable server as typed errors. This proves the
 * client needs nothing but web-standard APIs outside workerd.
 */
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { freePort, WranglerDev } from "../../scripts/wrangler-dev.js";
import {
  type Entry,
  type EntryInput,
  NetworkError,
  QuorumLedgerClient,
  UnauthorizedError,
  verifyEntries,
} from "../../src/client/index.js";

const api_key = "dev-key-quorum-ledger"; // .dev.vars.example: scopes append, read, admin
/** How long the stream gets to deliver an entry that is due (the server polls every 250 ms). */
const deliver_ms = 10_000;

let dev: WranglerDev | undefined;
let persistDir: string | undefined;

beforeAll(async () => {
  persistDir = await mkdtemp(join(tmpdir(), "quorum-ledger-client-"));
  dev = await WranglerDev.start({
    port: await freePort(),
    persistTo: persistDir,
    label: "client-node",
    logLevel: "warn",
  });
}, 120_000);

afterAll(async () => {
  try {
    await dev?.stop();
  } catch (error) {
    console.error(`cleanup: ${String(error)}`);
    dev?.killNow();
  }
  if (persistDir !== undefined) await rm(persistDir, { recursive: true, force: true, maxRetries: 3 });
}, 60_000);

function fill(id: string, overrides: Partial<EntryInput> = {}): EntryInput {
  return {
    id,
    account: "ACC-1",
    symbol: "AAPL",
    side: "buy",
    quantity: "10",
    price: "187.25",
    currency: "USD",
    ...overrides,
  };
}

async function nextWithin(iterator: AsyncIterator<Entry>, what: string): Promise<Entry> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${deliver_ms} ms: ${what}`)), deliver_ms);
  });
  try {
    const next = await Promise.race([iterator.next(), timeout]);
    if (next.done === true) throw new Error(`the stream ended before ${what}`);
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

describe("the client in Node (global fetch) against wrangler dev", () => {
  it("appends, reads back verified, and streams replayed then live entries", async () => {
    onTestFailed(() => console.error(`wrangler dev output:\n${dev?.outputTail() ?? "(not started)"}`));
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
    const ledger = `client-node-${randomBytes(4).toString("hex")}`;
    // No `fetch` option: the client uses Node's global fetch.
    const client = new QuorumLedgerClient({ baseUrl: dev!.url, apiKey: api_key, ledger });

    const one = await client.append(fill("XNAS:1001"));
    expect(one).toMatchObject({ ledger, created: true, results: [{ id: "XNAS:1001", status: "created", seq: 1 }] });
    const batch = await client.append([
      fill("XNAS:1002", { side: "sell", quantity: "4", price: "190", fee: "0.50" }),
      fill("XNAS:1003", { symbol: "MSFT", price: "411.10" }),
    ]);
    expect(batch.results.map((r) => r.seq)).toEqual([2, 3]);
    const again = await client.append(fill("XNAS:1001"));
    expect(again).toMatchObject({
      created: false,
      results: [{ status: "exists", seq: 1, hash: one.results[0]!.hash }],
    });

    const page = await client.list();
    expect(page.entries.map((e) => e.id)).toEqual(["XNAS:1001", "XNAS:1002", "XNAS:1003"]);
    expect(verifyEntries(page.entries)).toMatchObject({
      count: 3,
      anchored: true,
      last: { seq: 3, hash: batch.results[1]!.hash },
    });
    expect(await client.entryById("XNAS:1002")).toMatchObject({ seq: 2, hash: batch.results[0]!.hash });
    expect(await client.head()).toMatchObject({ seq: 3, hash: batch.results[1]!.hash });
    const positions = await client.positions("ACC-1");
    expect(positions.positions.find((p) => p.symbol === "AAPL")).toMatchObject({
      quantity: "6",
      realizedPnl: "10.5",
      fees: "0.5",
    });
    expect(await client.verify()).toMatchObject({ verified: true, checkedThrough: 3 });

    const abort = new AbortController();
    const stream = client.stream({ signal: abort.signal })[Symbol.asyncIterator]();
    const replayed = [];
    for (let i = 1; i <= 3; i++) replayed.push(await nextWithin(stream, `replayed entry ${i}`));
    expect(replayed.map((e) => e.hash)).toEqual(page.entries.map((e) => e.hash));
    const live = (await client.append(fill("XNAS:1004", { account: "ACC-2" }))).results[0]!;
    expect(await nextWithin(stream, "the live entry")).toMatchObject({ id: "XNAS:1004", seq: 4, hash: live.hash });
    abort.abort();
    expect(await stream.next()).toEqual({ done: true, value: undefined });

    expect(dev!.errorLines()).toEqual([]);
  });

  it("an unknown key is an UnauthorizedError; an unreachable server a NetworkError after the bounded retries", async () => {
    const refused = new QuorumLedgerClient({ baseUrl: dev!.url, apiKey: "not-a-key", ledger: "client-node-401" });
    await expect(refused.head()).rejects.toBeInstanceOf(UnauthorizedError);

    // A port nothing listens on: connection refused on every attempt.
    const nowhere = new QuorumLedgerClient({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      apiKey: api_key,
      ledger: "client-node-down",
      retry: { attempts_max: 3, base_ms: 10, cap_ms: 50 },
    });
    const error = await nowhere.append(fill("XNAS:9999")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: "network_error", attempts: 3, outcomeUnknown: true });
  });
});

describe("the package's ./client entry, built JavaScript, in a plain Node process", () => {
  it("imports `quorum-ledger/client` without TypeScript tooling, appends and reads back verified", async () => {
    // A child `node` (this project's pinned one) with no loader: only the built dist/client files
    // (`npm run build:client`, run before the tests) and the package's runtime dependencies.
    const script = `
      const { QuorumLedgerClient, verifyEntries } = await import("quorum-ledger/client");
      const client = new QuorumLedgerClient({ baseUrl: process.argv[1], apiKey: process.argv[2], ledger: process.argv[3] });
      const appended = await client.append({ id: "pkg-1", account: "ACC-9", symbol: "MSFT", side: "buy", quantity: "5", price: "411.10" });
      const page = await client.list();
      verifyEntries(page.entries);
      console.log(JSON.stringify({ created: appended.created, seqs: page.entries.map((e) => e.seq), head: (await client.head()).seq }));
    `;
    const { execFile } = await import("node:child_process");
    const ledger = `pkg-${randomBytes(4).toString("hex")}`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script, dev!.url, api_key, ledger],
        { cwd: join(import.meta.dirname, "../.."), timeout: 60_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(JSON.parse(out.trim())).toEqual({ created: true, seqs: [1], head: 1 });
  });

  it("bundles from its own modules, the core's hash chain, @noble/hashes and canonicalize only", async () => {
    // The answer types come from zod schemas through type-only imports: a value import would put
    // zod (or, through src/proposer, Hono) into every browser bundle of the SDK.
    const { build } = await import("esbuild");
    const root = join(import.meta.dirname, "../..");
    const result = await build({
      entryPoints: [join(root, "dist/client/client/index.js")],
      absWorkingDir: root,
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "browser",
      logLevel: "silent",
    });
    const allowed =
      /^(dist\/client\/client\/|dist\/client\/core\/|node_modules\/@noble\/hashes\/|node_modules\/canonicalize\/)/;
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("dist/client/client/client.js");
    expect(inputs.filter((input) => !allowed.test(input))).toEqual([]);
  });

  it("its declarations type-check for a consumer that has zod and none of the server's packages", async () => {
    // The answer types come from the API's zod schemas (src/api/responses.ts), so the emitted
    // declarations import zod: a consumer installs it with the package, but Hono and the Worker's
    // types must not be needed. A scratch package holds only the built dist/client and zod.
    const root = join(import.meta.dirname, "../..");
    const dir = await mkdtemp(join(tmpdir(), "quorum-ledger-consumer-"));
    try {
      const pkg = join(dir, "node_modules", "quorum-ledger");
      await mkdir(pkg, { recursive: true });
      await cp(join(root, "package.json"), join(pkg, "package.json"));
      await cp(join(root, "dist", "client"), join(pkg, "dist", "client"), { recursive: true });
      await symlink(join(root, "node_modules", "zod"), join(dir, "node_modules", "zod"), "dir");
      await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const consumer = join(dir, "consumer.ts");
      await writeFile(
        consumer,
        `import { QuorumLedgerClient, type Entry, type LedgerStatus, type Receipt } from "quorum-ledger/client";
        const client = new QuorumLedgerClient({ baseUrl: "http://127.0.0.1:8787", apiKey: "key", ledger: "desk-1" });
        const entries: Entry[] = (await client.list()).entries;
        const receipt: Receipt = (await client.append({ id: "a", account: "b", symbol: "c", side: "buy", quantity: "1", price: "1" })).results[0]!;
        const status: LedgerStatus = await client.status();
        const seqs: number[] = [...entries.map((e) => e.seq), receipt.seq, status.commits.entries];
        export { seqs };`,
      );
      const program = ts.createProgram([consumer], {
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ["lib.esnext.d.ts", "lib.dom.d.ts"],
        types: [],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
      expect(problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
