import { readdirSync, readFileSync } from 'node:fs';

/** What the sampler saw of one process over the run. */
export interface ProcessUsage {
  /** Highest resident set size seen, in MiB. */
  peakRssMb: number;
  /** User + system CPU time used during the sampled window, in seconds. */
  cpuSeconds: number;
  /**
   * Times its main thread went to sleep and was woken during the window (voluntary context
   * switches): each batch, reply or timer that finds it idle is one.
   */
  wakeups: number;
}

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this project runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The whole machine's CPU over the window, to tell the stack's own use from everything else's. */
export interface MachineUsage {
  /** CPU seconds spent busy (not idle, not waiting for I/O), all cores together. */
  busyCpuSeconds: number;
  /** Of those, by the stack's PostgreSQL backends (connections to its database). */
  postgresCpuSeconds: number;
  /** Wake-ups of those backends, all together (see {@link ProcessUsage.wakeups}). */
  postgresWakeups: number;
  /** Of those, by the Redis server (shared with whatever else uses it; null when it is not on this machine). */
  redisCpuSeconds: number | null;
  /** Wake-ups of the Redis server's main thread (null when it is not on this machine). */
  redisWakeups: number | null;
  /** Of those, by this process: the load generator. */
  benchCpuSeconds: number;
  /** Wall-clock seconds of the window; × cores is what there was to spend. */
  seconds: number;
}

/** How often the PostgreSQL backends of the run's database are looked for (they come and go with pool connections). */
const BACKEND_SCAN_EVERY = 5;

/**
 * Samples each process's resident memory (VmRSS of /proc/<pid>/status) every `intervalMs`, keeping
 * the peak, and its CPU time at the first and last sample. Cheap (two small file reads per process
 * and sample), so it runs during the measurement without disturbing it. Linux only: elsewhere it
 * reports zeros.
 */
export class ProcessSampler {
  readonly #processes: Map<string, number>;
  readonly #peakRssKb = new Map<string, number>();
  readonly #cpuTicksAtStart = new Map<string, number>();
  readonly #cpuTicksLast = new Map<string, number>();
  readonly #wakeupsAtStart = new Map<string, number>();
  readonly #wakeupsLast = new Map<string, number>();
  /** CPU ticks and wake-ups of each PostgreSQL backend of the run's database: first and last seen. */
  readonly #backends = new Map<number, { first: CpuAndWakeups; last: CpuAndWakeups }>();
  #machineAtStart: { busy: number; at: number } | null = null;
  #machineAtStop: { busy: number; at: number } | null = null;
  #redisPid: number | null = null;
  #redisAtStart: CpuAndWakeups | null = null;
  #redisAtStop: CpuAndWakeups | null = null;
  #benchCpuAtStart: NodeJS.CpuUsage | null = null;
  #benchCpu: NodeJS.CpuUsage | null = null;
  #samples = 0;
  #timer: NodeJS.Timeout | null = null;

  /**
   * `processes`: a label (e.g. `kitchen-2`) for each pid. `database`: whose PostgreSQL backends
   * to count (their command line names it).
   */
  constructor(
    processes: Record<string, number>,
    private readonly database: string,
    private readonly intervalMs = 200,
  ) {
    this.#processes = new Map(Object.entries(processes));
  }

  start(): void {
    this.#machineAtStart = readMachineBusyTicks();
    this.#benchCpuAtStart = process.cpuUsage();
    this.#redisPid = findProcess('redis-server');
    this.#redisAtStart = this.#redisPid === null ? null : readCpuAndWakeups(this.#redisPid);
    this.scanBackends();
    this.sample();
    for (const [label, ticks] of this.#cpuTicksLast) this.#cpuTicksAtStart.set(label, ticks);
    for (const [label, wakeups] of this.#wakeupsLast) this.#wakeupsAtStart.set(label, wakeups);
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#timer.unref();
  }

  /** Takes a last sample and stops. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.sample();
    this.scanBackends();
    this.#machineAtStop = readMachineBusyTicks();
    this.#benchCpu = process.cpuUsage(this.#benchCpuAtStart ?? undefined);
    this.#redisAtStop = this.#redisPid === null ? null : readCpuAndWakeups(this.#redisPid);
  }

  machine(): MachineUsage {
    const start = this.#machineAtStart;
    const stop = this.#machineAtStop;
    let backendTicks = 0;
    let backendWakeups = 0;
    for (const { first, last } of this.#backends.values()) {
      backendTicks += last.ticks - first.ticks;
      backendWakeups += last.wakeups - first.wakeups;
    }
    const redisStart = this.#redisAtStart;
    const redisStop = this.#redisAtStop;
    return {
      busyCpuSeconds: start && stop ? round2((stop.busy - start.busy) / CLOCK_TICKS_PER_SECOND) : 0,
      postgresCpuSeconds: round2(backendTicks / CLOCK_TICKS_PER_SECOND),
      postgresWakeups: backendWakeups,
      redisCpuSeconds: redisStart && redisStop ? round2((redisStop.ticks - redisStart.ticks) / CLOCK_TICKS_PER_SECOND) : null,
      redisWakeups: redisStart && redisStop ? redisStop.wakeups - redisStart.wakeups : null,
      benchCpuSeconds: this.#benchCpu ? round2((this.#benchCpu.user + this.#benchCpu.system) / 1e6) : 0,
      seconds: start && stop ? round2((stop.at - start.at) / 1000) : 0,
    };
  }

  usage(): Record<string, ProcessUsage> {
    const usage: Record<string, ProcessUsage> = {};
    for (const label of this.#processes.keys()) {
      const ticks = (this.#cpuTicksLast.get(label) ?? 0) - (this.#cpuTicksAtStart.get(label) ?? 0);
      usage[label] = {
        peakRssMb: Math.round((this.#peakRssKb.get(label) ?? 0) / 1024),
        cpuSeconds: round2(ticks / CLOCK_TICKS_PER_SECOND),
        wakeups: (this.#wakeupsLast.get(label) ?? 0) - (this.#wakeupsAtStart.get(label) ?? 0),
      };
    }
    return usage;
  }

  private sample(): void {
    this.#samples += 1;
    if (this.#samples % BACKEND_SCAN_EVERY === 0) this.scanBackends();
    for (const [label, pid] of this.#processes) {
      const rssKb = readRssKb(pid);
      if (rssKb !== null) this.#peakRssKb.set(label, Math.max(this.#peakRssKb.get(label) ?? 0, rssKb));
      const used = readCpuAndWakeups(pid);
      if (used === null) continue;
      this.#cpuTicksLast.set(label, used.ticks);
      this.#wakeupsLast.set(label, used.wakeups);
    }
  }

  /** Finds the backends serving the run's database and records their CPU ticks. */
  private scanBackends(): void {
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      const known = this.#backends.get(pid);
      if (!known) {
        let commandLine: string;
        try {
          commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          continue;
        }
        // A backend retitles itself "postgres: <cluster>: <user> <database> <client> <state>".
        if (!commandLine.startsWith('postgres:') || !commandLine.includes(` ${this.database} `)) continue;
      }
      const used = readCpuAndWakeups(pid);
      if (used === null) continue;
      if (known) known.last = used;
      // What a backend did before the window (connecting, migrations) is not the run's.
      else this.#backends.set(pid, { first: this.#samples === 0 ? used : { ticks: 0, wakeups: 0 }, last: used });
    }
  }
}

/** CPU is counted in clock ticks of 10 ms: two decimals of seconds keep every tick. */
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Busy ticks of all cores together (everything but idle and iowait), and when they were read. */
function readMachineBusyTicks(): { busy: number; at: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: ticks.reduce((sum, value) => sum + value, 0) - idle, at: Date.now() };
  } catch {
    return null;
  }
}

/** The pid of the first process whose command line starts with `name`, or null. */
function findProcess(name: string): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith(name)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** VmRSS in KiB, or null once the process is gone. */
export function readRssKb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** A process's CPU so far (utime + stime, in clock ticks) and its main thread's wake-ups so far. */
interface CpuAndWakeups {
  ticks: number;
  wakeups: number;
}

/** {@link CpuAndWakeups} of a process, or null once it is gone. */
function readCpuAndWakeups(pid: number): CpuAndWakeups | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it are counted from its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // The process's own status: its main thread's switches (the threads' are under /proc/<pid>/task).
    const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
    const voluntary = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(status);
    return { ticks: Number(fields[11]) + Number(fields[12]), wakeups: voluntary ? Number(voluntary[1]) : 0 };
  } catch {
    return null;
  }
}
