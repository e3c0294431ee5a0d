/**
 * `--profile`: a V8 CPU profile of the Worker's isolate (the Worker and every Durable Object run in
 * it) during each throughput run, through wrangler's DevTools inspector proxy on loopback. Writes the
 * `.cpuprofile` (open it in Chrome DevTools) and keeps a summary: the share of samples per function
 * (self and inclusive), mapped back to the TypeScript sources through the bundle's source map.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { project_root } from "../scripts/wrangler-dev.js";

const connect_timeout_ms = 5_000;
const command_timeout_ms = 30_000;
/** Sampling interval of the profiler (µs). */
const sampling_interval_us = 250;

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly sampled_s: number;
  /** Shares of the samples (0..1): idle, native code outside JavaScript ("(program)"), garbage collection. */
  readonly idle: number;
  readonly program: number;
  readonly gc: number;
  readonly topSelf: ReadonlyArray<{ fn: string; share: number }>;
  readonly topInclusive: ReadonlyArray<{ fn: string; share: number }>;
}

/** A DevTools protocol session with the Worker's isolate. */
export class InspectorSession {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
    ws.addEventListener("close", () => {
      for (const w of this.pending.values()) w.reject(new Error("the inspector connection closed"));
      this.pending.clear();
    });
  }

  static async connect(inspectorPort: number): Promise<InspectorSession> {
    const list = (await (
      await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(connect_timeout_ms) })
    ).json()) as Array<{
      webSocketDebuggerUrl?: string;
    }>;
    const url = list[0]?.webSocketDebuggerUrl;
    if (url === undefined || new URL(url).hostname !== "127.0.0.1")
      throw new Error(`no loopback inspector target: ${JSON.stringify(list).slice(0, 300)}`);
    // wrangler's inspector proxy wants an Origin it knows.
    const ws = new WebSocket(url, { headers: { Origin: "http://127.0.0.1" } });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the inspector did not open in time")), connect_timeout_ms);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error("the inspector connection failed"));
      });
    });
    return new InspectorSession(ws);
  }

  send<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${command_timeout_ms} ms`));
      }, command_timeout_ms);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async startProfile(): Promise<void> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: sampling_interval_us });
    await this.send("Profiler.start");
  }

  async stopProfile(): Promise<CpuProfile> {
    return (await this.send<{ profile: CpuProfile }>("Profiler.stop")).profile;
  }

  close(): void {
    this.ws.close();
  }
}

// ---- source maps (version 3, "mappings" only) ----

const b64 = new Map([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((ch, i) => [ch, i]));

function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = b64.get(ch);
    if (digit === undefined) throw new Error(`bad VLQ character ${ch}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** Maps a generated (0-based line, column) to `source:line` (1-based line). */
class SourceMap {
  private readonly lines: Array<Array<{ col: number; source: number; line: number }>> = [];
  constructor(
    private readonly sources: readonly string[],
    mappings: string,
  ) {
    let source = 0;
    let line = 0;
    mappings.split(";").forEach((text) => {
      const segments: Array<{ col: number; source: number; line: number }> = [];
      let col = 0;
      for (const seg of text.split(",")) {
        if (seg === "") continue;
        const v = decodeVlq(seg);
        col += v[0]!;
        if (v.length >= 4) {
          source += v[1]!;
          line += v[2]!;
          segments.push({ col, source, line });
        }
      }
      this.lines.push(segments);
    });
  }

  lookup(line0: number, col0: number): string | undefined {
    const segs = this.lines[line0];
    if (segs === undefined || segs.length === 0) return undefined;
    let best = segs[0]!;
    for (const s of segs) if (s.col <= col0) best = s;
    const file = (this.sources[best.source] ?? "?").replace(/^(\.\.\/)+/, "");
    return `${file}:${best.line + 1}`;
  }
}

/** The newest bundle wrangler dev wrote at or after `since_ms` (.wrangler/tmp/dev-*), with its map. */
export function findBundleMap(since_ms: number): SourceMap | undefined {
  const dir = join(project_root, ".wrangler", "tmp");
  if (!existsSync(dir)) return undefined;
  const candidates = readdirSync(dir)
    .filter((n) => n.startsWith("dev-"))
    .map((n) => join(dir, n, "index.js.map"))
    .filter((p) => existsSync(p) && statSync(p).mtimeMs >= since_ms - 1000)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const path = candidates[0];
  if (path === undefined) return undefined;
  const map = JSON.parse(readFileSync(path, "utf8")) as { sources: string[]; mappings: string };
  return new SourceMap(map.sources, map.mappings);
}

export function summarizeProfile(profile: CpuProfile, map: SourceMap | undefined, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<number, number>();
  for (const [i, s] of profile.samples.entries())
    selfTime.set(s, (selfTime.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...selfTime.values()].reduce((a, x) => a + x, 0) || 1;
  const name = (n: ProfileNode): string => {
    const f = n.callFrame;
    const fn = f.functionName || "(anonymous)";
    if (f.url === "") return fn;
    const where =
      f.url === "index.js"
        ? (map?.lookup(f.lineNumber, f.columnNumber) ?? `bundle:${f.lineNumber + 1}`)
        : `${f.url}:${f.lineNumber + 1}`;
    return `${fn} ${where}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const node = byId.get(id)!;
    self.set(name(node), (self.get(name(node)) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + t);
    }
  }
  const share = (k: string) => Math.round(((self.get(k) ?? 0) / total) * 1000) / 1000;
  const ranked = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => k !== "(root)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, t]) => ({ fn, share: Math.round((t / total) * 1000) / 1000 }));
  return {
    sampled_s: Math.round(total / 1e4) / 100,
    idle: share("(idle)"),
    program: share("(program)"),
    gc: share("(garbage collector)"),
    topSelf: ranked(self),
    topInclusive: ranked(inclusive),
  };
}
