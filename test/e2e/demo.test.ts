/**
 * `npm run demo` (scripts/demo.ts) on a machine where the port is not what it expects: its
 * arguments, its probe of what answers on a port, its last lines, and the script itself run as a
 * user runs it against a port held by another server on 127.0.0.1 (it must say what it found and
 * stop, with no stack trace and without posting anything there).
 */
import { spawn } from "node:child_process";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { closingLines, type DemoOptions, demo_port_default, parseDemoArgs, probeLedger } from "../../scripts/demo.js";
import { freePort, project_root } from "../../scripts/wrangler-dev.js";

const tsx_cli = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
/** The script's run before it stops: tsx's start-up (a few seconds on a loaded machine) plus one probe. */
const script_timeout_ms = 60_000;
/** A line of a JavaScript stack trace. */
const stack_line = /^\s+at .+\(?.+:\d+:\d+\)?$/m;
/** Tries to find two consecutive free ports. */
const port_pair_attempts_max = 50;

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function listen<S extends Server>(server: S, port = 0): Promise<number> {
  server.on("connection", (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

/** An HTTP server on 127.0.0.1 that is not Quorum Ledger; it records what it was asked. */
async function otherHttpServer(port = 0): Promise<{ port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404, { "content-type": "text/html; charset=utf-8" }).end("<h1>Not Found</h1>");
  });
  return { port: await listen(server, port), requests };
}

/** Answers `GET /` as Quorum Ledger's service description does. */
async function fakeLedger(port = 0): Promise<number> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ service: "quorum-ledger" }));
  });
  return listen(server, port);
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<number> {
  return listen(createTcpServer(() => undefined));
}

interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run demo -- <args>` as the user runs it (tsx on the project's Node), bounded in time. */
function runDemoScript(args: readonly string[]): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx_cli, "scripts/demo.ts", ...args], {
      cwd: project_root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the demo did not stop within ${script_timeout_ms} ms:\n${stdout}\n${stderr}`));
    }, script_timeout_ms);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function options(argv: string[]): DemoOptions {
  const parsed = parseDemoArgs(argv, 7);
  if (parsed.kind !== "run") throw new Error(`expected options, got ${JSON.stringify(parsed)}`);
  return parsed.options;
}

function invalid(argv: string[]): string {
  const parsed = parseDemoArgs(argv, 7);
  if (parsed.kind !== "invalid")
    throw new Error(`expected a refusal of ${JSON.stringify(argv)}, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe("the demo's arguments", () => {
  it("default to port 8787, 300 fills, ledger demo, a random seed, kept running", () => {
    expect(options([])).toEqual({
      fills: 300,
      ledger: "demo",
      seed: 7,
      exit: false,
      target: { kind: "port", port: demo_port_default },
    });
  });

  it("take --port and --url", () => {
    expect(options(["--port", "8790"]).target).toEqual({ kind: "port", port: 8790 });
    expect(options(["--url", "http://127.0.0.1:8788"]).target).toEqual({ kind: "url", url: "http://127.0.0.1:8788" });
    expect(options(["--url", "https://ledger.example.com/"]).target).toEqual({
      kind: "url",
      url: "https://ledger.example.com",
    });
    expect(options(["--exit", "--fills", "5", "--seed", "42", "--ledger", "desk-1"])).toMatchObject({
      exit: true,
      fills: 5,
      seed: 42,
      ledger: "desk-1",
    });
  });

  it("refuse what they cannot use, with a message", () => {
    expect(invalid(["--prot", "8790"])).toMatch(/Unknown option '--prot'/);
    expect(invalid(["--port", "abc"])).toMatch(/--port must be/);
    expect(invalid(["--port", "0"])).toMatch(/--port must be/);
    expect(invalid(["--port", "65536"])).toMatch(/--port must be/);
    expect(invalid(["--port", "8790", "--url", "http://127.0.0.1:8790"])).toMatch(/not both/);
    expect(invalid(["--url", "127.0.0.1:8788"])).toMatch(/--url/);
    expect(invalid(["--url", "http://127.0.0.1:8788/v1/ledgers"])).toMatch(/address only/);
    expect(invalid(["--url", "ftp://127.0.0.1:8788"])).toMatch(/address only/);
    expect(invalid(["--fills", "0"])).toMatch(/--fills/);
    expect(invalid(["--fills", "1e3"])).toMatch(/--fills/);
    expect(invalid(["--seed", "-1"])).toMatch(/--seed/);
    expect(invalid(["--ledger", "Demo"])).toMatch(/--ledger/);
    expect(invalid(["stray"])).toMatch(/positional/i);
  });

  it("answer --help with the usage", () => {
    expect(parseDemoArgs(["--help"], 7)).toMatchObject({ kind: "help", text: expect.stringContaining("--port") });
  });
});

describe("the demo's probe of a port", () => {
  it("tells Quorum Ledger, another HTTP server, a silent listener and nothing apart", async () => {
    expect(await probeLedger(`http://127.0.0.1:${await fakeLedger()}`)).toEqual({ kind: "ledger" });
    const other = await otherHttpServer();
    expect(await probeLedger(`http://127.0.0.1:${other.port}`)).toEqual({ kind: "other", what: "HTTP 404, text/html" });
    expect(await probeLedger(`http://127.0.0.1:${await freePort()}`)).toEqual({ kind: "nothing" });
    const silent = await probeLedger(`http://127.0.0.1:${await silentServer()}`);
    expect(silent).toMatchObject({ kind: "silent", what: expect.stringMatching(/no HTTP answer/) });
  });
});

describe("the demo's last lines", () => {
  it("do not invite the user to open a server the demo has just stopped (--exit)", () => {
    const lines = closingLines({ base: "http://127.0.0.1:8787", startedByDemo: true, keptRunning: false });
    expect(lines.at(-1)).not.toMatch(/open|http:\/\//i);
    expect(lines.join("\n")).toMatch(/Stopped the wrangler dev the demo started/);
  });

  it("point at the dashboard while a server keeps running", () => {
    expect(closingLines({ base: "http://127.0.0.1:8790", startedByDemo: true, keptRunning: true })).toEqual([
      "Open the dashboard at http://127.0.0.1:8790/ (key dev-key-quorum-ledger) and the API docs at http://127.0.0.1:8790/docs",
      "wrangler dev keeps running for that: press Ctrl-C to stop it.",
    ]);
    expect(closingLines({ base: "http://127.0.0.1:8790", startedByDemo: false, keptRunning: false })).toEqual([
      "Open the dashboard at http://127.0.0.1:8790/ (key dev-key-quorum-ledger) and the API docs at http://127.0.0.1:8790/docs",
    ]);
  });
});

describe("npm run demo against a port that is not Quorum Ledger", () => {
  it("says what it found and stops, without a stack trace and without posting there", async () => {
    const other = await otherHttpServer();
    const run = await runDemoScript(["--port", String(other.port), "--fills", "3", "--exit"]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(
      `Something answers on 127.0.0.1:${other.port}, but it is not Quorum Ledger (HTTP 404, text/html).`,
    );
    expect(run.stderr).toContain("npm run demo -- --port <P>");
    expect(run.stderr).not.toMatch(stack_line);
    expect(run.stdout).not.toMatch(/Starting wrangler|Posting/);
    expect(other.requests).toEqual(["GET /"]);
  });

  it("points at Quorum Ledger on the next port, where npm start moves when its port is taken", async () => {
    let pair: { other: Awaited<ReturnType<typeof otherHttpServer>>; ledgerPort: number } | undefined;
    for (let attempt = 0; attempt < port_pair_attempts_max && pair === undefined; attempt++) {
      const other = await otherHttpServer();
      try {
        pair = { other, ledgerPort: await fakeLedger(other.port + 1) };
      } catch {
        // the next port is taken: try another pair (the server stays in `servers` and is closed after the test)
      }
    }
    if (pair === undefined) throw new Error(`no two consecutive free ports in ${port_pair_attempts_max} attempts`);
    const run = await runDemoScript(["--port", String(pair.other.port)]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`Quorum Ledger answers on 127.0.0.1:${pair.ledgerPort}`);
    expect(run.stderr).toContain(`npm run demo -- --port ${pair.ledgerPort}`);
    expect(run.stderr).not.toMatch(stack_line);
  });

  it("says so when --url finds nothing, and refuses a bad option with its usage, both without a stack trace", async () => {
    const port = await freePort();
    const unreachable = await runDemoScript(["--url", `http://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(
      `No Quorum Ledger at http://127.0.0.1:${port}: nothing listens there (connection refused).`,
    );
    expect(unreachable.stderr).not.toMatch(stack_line);

    const typo = await runDemoScript(["--prot", "8790"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/Unknown option '--prot'/);
    expect(typo.stderr).toContain("npm run demo -- [--port P");
    expect(typo.stderr).not.toMatch(stack_line);
  });
});
