// CPU and memory of running processes from /proc (Linux): CPU time is utime+stime of all
// threads (/proc/<pid>/stat, in clock ticks), memory is VmRSS (/proc/<pid>/status).
import { readFileSync } from "node:fs";

// USER_HZ is 100 on every Linux ABI Node runs on (sysconf(_SC_CLK_TCK)); Node cannot query it.
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) the process has used so far, or undefined when it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may contain spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

/** Resident memory in MiB, or undefined when the process is gone. */
export function rssMiB(pid) {
  return residentMiB(pid)?.rss;
}

/**
 * Resident memory in MiB: all of it (VmRSS) and its private part (RssAnon: heap, stacks, malloc),
 * without the pages of mapped files (the node binary's code, shared libraries), which the
 * page cache shares with every process running the same binary. Undefined when the process is gone.
 */
export function residentMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const anon = /^RssAnon:\s+(\d+) kB/m.exec(status);
    return rss ? { rss: Number(rss[1]) / 1024, anon: anon ? Number(anon[1]) / 1024 : undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine so far (all CPUs; /proc/stat "cpu" line, idle and iowait excluded). */
export function machineBusySeconds() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Samples the given processes while a load runs: CPU seconds used between start() and stop(),
 * and RSS every `intervalMs` (peak and last, and the peak of its private part).
 */
export function sampleProcesses(pids, intervalMs = 250) {
  const entries = Object.entries(pids).filter(([, pid]) => pid !== undefined);
  const startBusy = machineBusySeconds();
  const startTime = process.hrtime.bigint();
  const startCpu = Object.fromEntries(entries.map(([name, pid]) => [name, cpuSeconds(pid)]));
  const rss = Object.fromEntries(entries.map(([name]) => [name, []]));
  const anon = Object.fromEntries(entries.map(([name]) => [name, []]));
  // Last CPU reading per process: a process that exits before stop() (wrk) keeps this one,
  // short by at most one interval.
  const lastCpu = { ...startCpu };
  const sample = () => {
    for (const [name, pid] of entries) {
      const value = residentMiB(pid);
      if (value !== undefined) rss[name].push(value.rss);
      if (value?.anon !== undefined) anon[name].push(value.anon);
      const cpu = cpuSeconds(pid);
      if (cpu !== undefined) lastCpu[name] = cpu;
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    /** Adds a process that started after the sampler (the load generator). */
    add(name, pid) {
      entries.push([name, pid]);
      startCpu[name] = cpuSeconds(pid);
      lastCpu[name] = startCpu[name];
      rss[name] = [];
      anon[name] = [];
    },
    stop() {
      clearInterval(timer);
      const wallSeconds = Number(process.hrtime.bigint() - startTime) / 1e9;
      const endBusy = machineBusySeconds();
      sample();
      const result = {};
      for (const [name, pid] of entries) {
        const end = cpuSeconds(pid) ?? lastCpu[name];
        const values = rss[name];
        result[name] = {
          cpuSeconds: end === undefined || startCpu[name] === undefined ? undefined : end - startCpu[name],
          rssPeakMiB: values.length ? Math.max(...values) : undefined,
          rssLastMiB: values.length ? values[values.length - 1] : undefined,
          anonPeakMiB: anon[name].length ? Math.max(...anon[name]) : undefined,
        };
      }
      // CPU the machine spent on anything but the sampled processes (other people's builds and
      // tests on a shared machine): in CPUs, averaged over the load. Near 0 means a clean run.
      const ours = Object.values(result).reduce((sum, p) => sum + (p.cpuSeconds ?? 0), 0);
      result.machine = {
        wallSeconds,
        busyCpus: endBusy === undefined || startBusy === undefined ? undefined : (endBusy - startBusy) / wallSeconds,
        otherCpus: endBusy === undefined || startBusy === undefined ? undefined : Math.max(0, endBusy - startBusy - ours) / wallSeconds,
      };
      return result;
    },
  };
}
