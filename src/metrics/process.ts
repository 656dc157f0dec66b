// The process: prom-client's defaults (CPU, resident memory, heap, event-loop lag, GC), once per process
// however many apps it runs (tests run several), and the bounds its memory is measured against.
import os from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

let defaults: Registry | undefined;

/** The registry of the process's default metrics, made on first use. */
export function processRegistry(): Registry {
  if (!defaults) {
    defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    new Gauge({
      name: 'sales_analytics_memory_limit_bytes',
      help: "The most memory this process may use: its control group's limit (systemd's MemoryMax), else the machine's memory.",
      registers: [defaults],
      collect() {
        // constrainedMemory() answers 0 without a limit, and the largest integer for a cgroup v1 one unset.
        this.set(Math.min(process.constrainedMemory?.() || Number.POSITIVE_INFINITY, os.totalmem()));
      },
    });
    new Gauge({
      name: 'sales_analytics_heap_limit_bytes',
      help: "The most this process's main V8 heap may grow to (nodejs_heap_size_used_bytes is measured against it).",
      registers: [defaults],
      collect() {
        this.set(getHeapStatistics().heap_size_limit);
      },
    });
  }
  return defaults;
}
