/**
 * The worker module of the metric pool (started by geometry/parallel-fields.ts through runtime/pool.ts):
 * rebuilds metrics from their worker descriptions and computes chunks of points with the same code as
 * the main thread (computeChunk).
 */
import { serveWorker } from '../runtime/worker-host';
import { DECODER_JSON_FORMAT, decoderFromJson } from '../io/decoder-json';
import type { GaussianDecoder } from '../models/decoder';
import { DecoderMetric, DecoderMetricKind } from './decoder-metric';
import { ChunkTask, computeChunk } from './parallel-fields';

/** What the pool sends as a resource: a MetricWorkerDescription's format and payload. */
export interface MetricPayload {
  format: string;
  data: unknown;
}

serveWorker<GaussianDecoder>({
  load(payload, id) {
    const { format, data } = payload as MetricPayload;
    if (format !== DECODER_JSON_FORMAT) throw new Error(`metric worker: unknown metric format "${format}" (expected "${DECODER_JSON_FORMAT}")`);
    return decoderFromJson(data, `decoder ${id}`).decoder;
  },
  dispose: (decoder) => decoder.dispose(),
  run(decoder, task) {
    const t = task as ChunkTask;
    const { kind } = t.options as { kind: DecoderMetricKind };
    return computeChunk(new DecoderMetric(decoder, kind), t.points, t.output, t.batchSize);
  },
});
