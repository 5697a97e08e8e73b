/** The stop request of a training command, and how to let go of the handlers afterwards. */
export interface SignalStop {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * SIGINT / SIGTERM during training: the first aborts `signal` (the Trainer finishes its step,
 * saves a checkpoint and returns `interrupted`; the command then exits 130); a second quits at
 * once with 130. The library never exits the process: this is the command line's policy.
 */
export function stopOnSignals(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): SignalStop {
  const controller = new AbortController();
  const on = (sig: NodeJS.Signals) => () => {
    if (controller.signal.aborted) process.exit(130);
    log(`${sig} received: saving a checkpoint after this step (send again to quit at once)`);
    controller.abort(sig);
  };
  const onInt = on("SIGINT"), onTerm = on("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
  };
}
