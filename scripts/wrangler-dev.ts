/**
 * `wrangler dev` as a child process for black-box tests and benchmarks: started with the Node that runs the caller,
 * in its own process group (wrangler starts a second Node and two workerd processes under it), so
 * that one SIGKILL to the group is a kill -9 of the whole local deployment. Only loopback traffic:
 * telemetry, the update check and the `Request.cf` download are switched off.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const project_root = fileURLToPath(new URL("..", import.meta.url));
const wrangler_bin = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));

/** How long `wrangler dev` may take to answer `GET /` (bundling, two workerd processes). */
export const ready_timeout_ms = 60_000;
/** How long the killed process group may take to disappear and release its port. */
export const exit_timeout_ms = 15_000;
/** The last characters of wrangler's output kept for a failure report. */
const output_chars_max = 64 * 1024;
/** Output lines that mean the Worker failed: the app's log line for a 500, or an uncaught exception. */
const error_line = /unhandled error|uncaught/i;
const error_lines_max = 50;
const poll_interval_ms = 200;
const probe_timeout_ms = 2_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback port that was free a moment ago: bind port 0, read the port, close. */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error(`unexpected server address ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** True when `port` can be bound on 127.0.0.1 right now. */
async function portIsFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** One process of a group, from /proc/<pid>/stat: its command name and CPU time so far. */
export interface GroupProcess {
  readonly pid: number;
  readonly comm: string;
  /** User plus system CPU time, in clock ticks (see `clock_ticks_per_s`). */
  readonly cpuTicks: number;
  /** The same for the process's main thread alone (a workerd isolate's JavaScript runs there). */
  readonly mainThreadCpuTicks: number;
  /** The command line, NUL separators as spaces. */
  readonly cmdline: string;
}

function cpuTicksOf(stat: string): number {
  // After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback; // gone meanwhile
  }
}

/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on every mainstream build). */
export const clock_ticks_per_s = 100;

/** The live processes of the group `pgid` (empty where there is no /proc). */
export function groupProcesses(pgid: number): GroupProcess[] {
  const found: GroupProcess[] = [];
  if (!existsSync("/proc/self/stat")) return found;
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid || fields[0] === "Z" || fields[0] === "X") continue;
    const main = readOr(`/proc/${name}/task/${name}/stat`, "");
    found.push({
      pid: Number(name),
      comm,
      cpuTicks: cpuTicksOf(stat),
      mainThreadCpuTicks: main === "" ? 0 : cpuTicksOf(main),
      cmdline: readOr(`/proc/${name}/cmdline`, "").replace(/\0/g, " ").trim(),
    });
  }
  return found;
}

/**
 * True while a live (not zombie) process of the group `pgid` exists. Reads /proc where there is one,
 * since a zombie that the machine's init has not reaped yet still answers kill(0).
 */
function groupAlive(pgid: number): boolean {
  if (existsSync("/proc/self/stat")) return groupProcesses(pgid).length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

// Should the test runner itself exit without the cleanup running, take the groups down with it.
const live_groups = new Set<number>();
process.on("exit", () => {
  for (const pgid of live_groups) killGroup(pgid);
});

export interface WranglerDevOptions {
  readonly port: number;
  readonly persistTo: string;
  /** Names this instance in error messages ("first", "restarted"). */
  readonly label: string;
  /** `--var NAME:VALUE` overrides of wrangler.toml's [vars] (e.g. ACCEPTOR_REGIONS). */
  readonly vars?: Readonly<Record<string, string>>;
  /** wrangler's `--log-level`; "info" (the default) logs every request. */
  readonly logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
}

export class WranglerDev {
  readonly url: string;
  private output = "";
  private readonly partialLine = { stdout: "", stderr: "" };
  private readonly errors: string[] = [];
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;

  private constructor(
    child: ChildProcess,
    private readonly pgid: number,
    readonly options: WranglerDevOptions,
    /** wrangler's DevTools inspector proxy (loopback): `GET /json` lists the Worker's WebSocket. */
    readonly inspectorPort: number,
  ) {
    this.url = `http://127.0.0.1:${options.port}`;
    const keep = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.output = (this.output + text).slice(-output_chars_max);
      const lines = (this.partialLine[stream] + text).split("\n");
      this.partialLine[stream] = (lines.pop() ?? "").slice(-output_chars_max);
      for (const line of lines) {
        if (error_line.test(line) && this.errors.length < error_lines_max) this.errors.push(line.slice(0, 1000));
      }
    };
    child.stdout?.on("data", keep("stdout"));
    child.stderr?.on("data", keep("stderr"));
    this.exitPromise = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
    });
  }

  /** Starts `wrangler dev` on `options.port` with `options.persistTo` and waits until `GET /` answers. */
  static async start(options: WranglerDevOptions): Promise<WranglerDev> {
    // wrangler picks 9229 for its inspector and falls back to another port when that one is taken;
    // an explicit free port keeps concurrent dev sessions on this machine out of each other's way.
    const inspectorPort = await freePort();
    const child = spawn(
      process.execPath,
      [
        wrangler_bin,
        "dev",
        "--port",
        String(options.port),
        "--ip",
        "127.0.0.1",
        "--inspector-port",
        String(inspectorPort),
        "--persist-to",
        options.persistTo,
        "--env-file",
        ".dev.vars.example",
        "--show-interactive-dev-session=false",
        "--log-level",
        options.logLevel ?? "info",
        ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ],
      {
        cwd: project_root,
        detached: true, // its own process group: process.kill(-pid) reaches wrangler and workerd
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          CI: "true",
          WRANGLER_SEND_METRICS: "false",
          WRANGLER_HIDE_BANNER: "true", // no banner, so no update check against the npm registry
          CLOUDFLARE_CF_FETCH_ENABLED: "false", // no download of Request.cf from workers.cloudflare.com
          NO_COLOR: "1",
        },
      },
    );
    if (child.pid === undefined) throw new Error("wrangler dev did not start (no pid)");
    live_groups.add(child.pid);
    const dev = new WranglerDev(child, child.pid, options, inspectorPort);
    try {
      await dev.waitReady();
    } catch (error) {
      await dev.kill();
      throw error;
    }
    return dev;
  }

  /** The live processes of this instance's group (wrangler, its Node child, workerd), with their CPU time. */
  processes(): GroupProcess[] {
    return groupProcesses(this.pgid);
  }

  /** Lines of output that report an error the Worker did not handle (a 500) or an uncaught exception. */
  errorLines(): readonly string[] {
    return this.errors;
  }

  /** wrangler's recent output, for failure reports. */
  outputTail(chars = 8_000): string {
    return this.output.slice(-chars);
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + ready_timeout_ms;
    let last = "no attempt yet";
    while (Date.now() < deadline) {
      if (this.exited !== undefined) {
        throw new Error(
          `[${this.options.label}] wrangler dev exited (code ${this.exited.code}, signal ${this.exited.signal}) before it was ready:\n${this.outputTail()}`,
        );
      }
      try {
        const response = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(probe_timeout_ms) });
        const body: unknown = await response.json();
        if (
          response.status === 200 &&
          typeof body === "object" &&
          body !== null &&
          "service" in body &&
          body.service === "quorum-ledger"
        ) {
          return;
        }
        last = `status ${response.status}: ${JSON.stringify(body).slice(0, 200)}`;
      } catch (error) {
        last = String(error);
      }
      await sleep(poll_interval_ms);
    }
    throw new Error(
      `[${this.options.label}] wrangler dev did not answer GET / within ${ready_timeout_ms} ms (last: ${last}):\n${this.outputTail()}`,
    );
  }

  /**
   * kill -9 of the whole process group (wrangler, its Node child, workerd); resolves once every
   * process of the group is gone and the port can be bound again.
   */
  async kill(): Promise<void> {
    killGroup(this.pgid);
    const deadline = Date.now() + exit_timeout_ms;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exitPromise,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, exit_timeout_ms))),
    ]);
    clearTimeout(timer); // a pending timer would keep the caller's process alive for exit_timeout_ms
    while (groupAlive(this.pgid)) {
      if (Date.now() > deadline) throw new Error(`[${this.options.label}] process group ${this.pgid} survived SIGKILL`);
      killGroup(this.pgid);
      await sleep(poll_interval_ms);
    }
    live_groups.delete(this.pgid);
    while (!(await portIsFree(this.options.port))) {
      if (Date.now() > deadline)
        throw new Error(`[${this.options.label}] port ${this.options.port} still taken after the kill`);
      await sleep(poll_interval_ms);
    }
  }

  /**
   * A clean stop: SIGINT to the group, so that wrangler removes its temporary bundle folders
   * (.wrangler/tmp); after `grace_ms` whatever is left gets the kill -9 of `kill()`.
   */
  async stop(grace_ms = 5_000): Promise<void> {
    killGroup(this.pgid, "SIGINT");
    const deadline = Date.now() + grace_ms;
    while (groupAlive(this.pgid) && Date.now() < deadline) await sleep(poll_interval_ms / 2);
    await this.kill();
  }

  /** Sends SIGKILL to the group without waiting; for use where nothing may be awaited. */
  killNow(): void {
    killGroup(this.pgid);
  }
}
