/**
 * The worker side of pool.ts: loads a tfjs backend once, builds the resources it is sent (and frees them
 * when dropped), and runs tasks on them. A worker module calls serveWorker with what its resources and
 * tasks are; this file knows neither.
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from './backend';
import type { FromWorker, ToWorker } from './pool-protocol';

export interface WorkerHandlers<R> {
  /** Builds a resource from its payload (throws on bad input: the jobs that use it get the message). */
  load(payload: unknown, id: string): R;
  /** Frees a resource that is dropped. */
  dispose?(resource: R): void;
  /** One task on a resource; the result's buffer is transferred back. */
  run(resource: R, task: unknown): Float32Array;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Serves the pool's messages in this worker thread. */
export function serveWorker<R>(handlers: WorkerHandlers<R>): void {
  if (!parentPort) throw new Error('worker-host: must run as a worker thread (see runtime/pool.ts)');
  const port = parentPort;
  /** Loaded resources by id, or the reason a load failed (reported to the jobs that use it). */
  const resources = new Map<string, R | Error>();
  const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

  const handle = (msg: ToWorker): void => {
    switch (msg.type) {
      case 'load':
        try {
          resources.set(msg.id, handlers.load(msg.payload, msg.id));
        } catch (err) {
          resources.set(msg.id, err instanceof Error ? err : new Error(String(err)));
        }
        return;
      case 'drop': {
        const r = resources.get(msg.id);
        if (r !== undefined && !(r instanceof Error)) handlers.dispose?.(r);
        resources.delete(msg.id);
        return;
      }
      case 'run': {
        const r = resources.get(msg.id);
        if (r === undefined) throw new Error(`resource ${msg.id} was not loaded`);
        if (r instanceof Error) throw r;
        const t0 = performance.now();
        const data = handlers.run(r, msg.task);
        send({ type: 'result', job: msg.job, data, seconds: (performance.now() - t0) / 1000 }, [data.buffer as ArrayBuffer]);
        return;
      }
    }
  };

  initBackend({ quiet: true }).then(
    (choice) => {
      port.on('message', (msg: ToWorker) => {
        try {
          handle(msg);
        } catch (err) {
          send({ type: 'error', job: msg.type === 'run' ? msg.job : null, message: errorMessage(err) });
        }
      });
      send({ type: 'ready', backend: choice.name });
    },
    (err) => send({ type: 'error', job: null, message: `backend: ${errorMessage(err)}` }),
  );
}
