/**
 * Where the CPU goes during a load run: the CPU time of each process of the `wrangler dev` group
 * (wrangler's Node processes, esbuild, the two workerd processes) and of this process (the load
 * generator), as cores busy over the run (1.0 = one core saturated). For each process also its main
 * thread alone: the Worker and every Durable Object of the user workerd run their JavaScript on one
 * thread, so a main thread near 1.0 is the ceiling.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { clock_ticks_per_s, type GroupProcess } from "../scripts/wrangler-dev.js";

export interface ProcessCpu {
  readonly pid: number;
  /** What the process is, from its command line. */
  readonly role: string;
  readonly cores: number;
  readonly mainThread_cores: number;
}

export interface CpuUse {
  readonly wall_s: number;
  /** Cores busy in the load generator (this Node process: autocannon and the bench). */
  readonly loadGenerator_cores: number;
  /** Busiest first. */
  readonly processes: readonly ProcessCpu[];
  /** All workerd processes together. */
  readonly workerd_cores: number;
  /** The main thread of the workerd that runs the Worker and the Durable Objects. */
  readonly userWorkerdMainThread_cores: number;
  readonly machine_cores: number;
  /** Cores busy machine-wide (/proc/stat), and what is left after wrangler dev and the load generator. */
  readonly machineBusy_cores: number;
  /** Other processes on the machine: contention that makes the figures of this run less reliable. */
  readonly otherProcesses_cores: number;
  /** CPU time the hypervisor gave to other guests while this one wanted it. */
  readonly steal_cores: number;
}

interface MachineTicks {
  readonly busy: number;
  readonly steal: number;
}

export interface CpuSnapshot {
  readonly at_ms: number;
  readonly self: NodeJS.CpuUsage;
  readonly group: readonly GroupProcess[];
  readonly machine: MachineTicks | undefined;
}

/** The "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal ... (clock ticks). */
function machineTicks(): MachineTicks | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8")
      .split("\n")
      .find((l) => l.startsWith("cpu "));
    if (line === undefined) return undefined;
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { busy: user + nice + system + irq + softirq, steal };
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(group: readonly GroupProcess[]): CpuSnapshot {
  return { at_ms: performance.now(), self: process.cpuUsage(), group, machine: machineTicks() };
}

/**
 * wrangler dev runs two workerd processes: one serves the public port and proxies (`entry=` on the
 * dev port, no inspector), the other runs the Worker and its Durable Objects (with the inspector).
 */
function roleOf(p: GroupProcess): string {
  if (p.comm === "workerd")
    return /--inspector-addr/.test(p.cmdline) ? "workerd: Worker + Durable Objects" : "workerd: wrangler's entry proxy";
  if (p.comm === "esbuild") return "esbuild (wrangler's bundler)";
  if (/wrangler-dist\/cli\.js/.test(p.cmdline)) return "node: wrangler";
  if (/wrangler\/bin\/wrangler\.js/.test(p.cmdline)) return "node: wrangler launcher";
  return p.comm;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export function cpuUse(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const wall_s = (after.at_ms - before.at_ms) / 1000;
  const self_us = after.self.user - before.self.user + (after.self.system - before.self.system);
  const earlier = new Map(before.group.map((p) => [p.pid, p]));
  const perS = (ticks: number) => ticks / clock_ticks_per_s / wall_s;
  const processes = after.group
    .map((p) => ({
      pid: p.pid,
      role: roleOf(p),
      cores: r2(perS(p.cpuTicks - (earlier.get(p.pid)?.cpuTicks ?? 0))),
      mainThread_cores: r2(perS(p.mainThreadCpuTicks - (earlier.get(p.pid)?.mainThreadCpuTicks ?? 0))),
    }))
    .sort((a, b) => b.cores - a.cores);
  const workerd = processes.filter((p) => p.role.startsWith("workerd"));
  const ours = processes.reduce((s, p) => s + p.cores, 0) + self_us / 1e6 / wall_s;
  const machineBusy = before.machine && after.machine ? perS(after.machine.busy - before.machine.busy) : Number.NaN;
  const steal = before.machine && after.machine ? perS(after.machine.steal - before.machine.steal) : Number.NaN;
  return {
    wall_s: r2(wall_s),
    loadGenerator_cores: r2(self_us / 1e6 / wall_s),
    processes,
    workerd_cores: r2(workerd.reduce((s, p) => s + p.cores, 0)),
    userWorkerdMainThread_cores:
      processes.find((p) => p.role === "workerd: Worker + Durable Objects")?.mainThread_cores ?? 0,
    machine_cores: cpus().length,
    machineBusy_cores: r2(machineBusy),
    otherProcesses_cores: r2(Math.max(0, machineBusy - ours)),
    steal_cores: r2(steal),
  };
}
