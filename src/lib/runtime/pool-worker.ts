/**
 * The worker side of runtime/pool.ts: loads tfjs-wasm once, keeps the decoders it is sent, and computes
 * chunks of points with the same code as the main thread (computeChunk).
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from './backend';
import type { FromWorker, ToWorker } from './pool';
import { decoderFromJson } from '../io/decoder-json';
import { DecoderMetric } from '../geometry/decoder-metric';
import { computeChunk } from '../geometry/parallel-fields';
import type { GaussianDecoder } from '../models/decoder';

if (!parentPort) throw new Error('pool-worker: must run as a worker thread (see runtime/pool.ts)');
const port = parentPort;

/** Loaded decoders by id, or the reason a load failed (reported to the jobs that use it). */
const decoders = new Map<string, GaussianDecoder | Error>();

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function handle(msg: ToWorker): void {
  switch (msg.type) {
    case 'load':
      try {
        decoders.set(msg.id, decoderFromJson(msg.json, `decoder ${msg.id}`).decoder);
      } catch (err) {
        decoders.set(msg.id, err instanceof Error ? err : new Error(String(err)));
      }
      return;
    case 'drop': {
      const d = decoders.get(msg.id);
      if (d && !(d instanceof Error)) d.dispose();
      decoders.delete(msg.id);
      return;
    }
    case 'metric': {
      const decoder = decoders.get(msg.id);
      if (decoder === undefined) throw new Error(`decoder ${msg.id} was not loaded`);
      if (decoder instanceof Error) throw decoder;
      const t0 = performance.now();
      const tensors = computeChunk(new DecoderMetric(decoder, msg.kind), msg.points, msg.output, msg.batchSize);
      send({ type: 'result', job: msg.job, tensors, seconds: (performance.now() - t0) / 1000 }, [tensors.buffer as ArrayBuffer]);
      return;
    }
  }
}

initBackend({ quiet: true }).then(
  (choice) => {
    port.on('message', (msg: ToWorker) => {
      try {
        handle(msg);
      } catch (err) {
        send({ type: 'error', job: msg.type === 'metric' ? msg.job : null, message: errorMessage(err) });
      }
    });
    send({ type: 'ready', backend: choice.name });
  },
  (err) => send({ type: 'error', job: null, message: `backend: ${errorMessage(err)}` }),
);
