/**
 * Ctrl-C handling: the first SIGINT asks the running loop to stop at the next step boundary (it then
 * writes a checkpoint and exits 130); a second SIGINT exits at once.
 */
export class StopSignal {
  private requested = false;
  private reason = '';

  get stopRequested(): boolean {
    return this.requested;
  }

  get stopReason(): string {
    return this.reason;
  }

  request(reason: string): void {
    this.requested = true;
    this.reason = reason;
    for (const listener of [...this.listeners]) listener(reason);
  }

  /** Calls `listener` when a stop is requested; returns a function that detaches it. */
  onRequest(listener: (reason: string) => void): () => void {
    this.listeners.add(listener);
    if (this.requested) listener(this.reason);
    return () => this.listeners.delete(listener);
  }

  private readonly listeners = new Set<(reason: string) => void>();
}

export const stopSignal = new StopSignal();

export class InterruptedError extends Error {
  constructor(readonly checkpointDir?: string) {
    super(checkpointDir ? `Interrupted: stopped cleanly, checkpoint written to ${checkpointDir}` : 'Interrupted: stopped cleanly');
    this.name = 'InterruptedError';
  }
}

/** Installs the SIGINT/SIGTERM handlers; returns a function that removes them. */
export function installInterruptHandlers(log: (line: string) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count > 1) {
      log(`\n${signal} again: exiting without waiting for the checkpoint`);
      process.exit(130);
    }
    log(`\n${signal}: finishing the current step and writing a checkpoint (press Ctrl-C again to quit at once)`);
    stopSignal.request(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
