// Counters of one capture pipeline (no module-level state): what the heartbeat reports and
// what /metrics exposes.
export class CaptureStats {
  /** Failed ring-buffer reserves in the kernel, since the loader started (from stats records). */
  ringbufDrops = 0;
  /** Records dropped in user space: the consumer fell behind the loader. */
  queueDrops = 0;
  /** New flows refused because the flow table was full. */
  tableFull = 0;
  /** Batches dropped because the sink (bus) fell behind. */
  sinkDroppedRecords = 0;
  recordsIn = 0;
  flowsOut = 0;
  published = 0;
  flowsTracked = 0;
  /** Kernel map inserts that failed (flow map full). */
  mapFull = 0;
  /** Kernel-side totals from the loader's stats records. */
  kernelOpened = 0;
  kernelClosed = 0;
  filteredOut = 0;
  sampledOut = 0;
  loaderRecords = 0;
  sampling = 1;
  /** Wall-clock ns of the last stats record: proof the loader is alive. */
  lastStatsNs = 0n;
  /** Called after each loader stats record is applied (every stats interval): the service syncs
   * its metrics here instead of on a timer of its own, so an idle capture wakes once a second. */
  onStatsRecord: (() => void) | undefined = undefined;
}
