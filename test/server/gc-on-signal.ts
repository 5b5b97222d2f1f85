// Preloaded into a server child process by the hostile-input suite (child-server.ts), with
// --expose-gc: on SIGUSR2 it collects garbage twice and prints the process's RSS, so the test reads
// memory that is really held, not garbage waiting for a collection.
process.on("SIGUSR2", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  process.stderr.write(`rss-after-gc ${m.rss} heap ${m.heapUsed} external ${m.external} arrayBuffers ${m.arrayBuffers}\n`);
});
