/**
 * Batch sizes from a decoder's size, so that forward-mode Jacobians fit the wasm heap.
 *
 * tfjs-wasm is a 32-bit WebAssembly module: its heap (weights, tfjs's buffer pool and every live
 * tensor) cannot grow past 2-4 GB, and running out shows as `memory access out of bounds`. A batch of B
 * points carries tangent rows [B, d, W] (plus the values [B, W]) through every layer of width W, and a
 * few such tensors are alive at once (matMul output, activation derivative, product). A decoder with
 * 200,000 outputs and d = 2 needs 2.4 GB for one [1024, 3, 200000] float32 tensor: the default batch of
 * 1024 ran the heap out. Batches are therefore capped so that one such tensor (for all nets of the metric
 * together) stays within TANGENT_BYTES_PER_BATCH.
 */
import type { GaussianDecoder } from '../models/decoder';
import type { Mlp } from '../nn/mlp';
import type { DecoderMetricKind } from './decoder-metric';

/** Bytes of one batch's widest tangent tensor: a few of them live at once, well inside a 2 GB heap. */
export const TANGENT_BYTES_PER_BATCH = 128 * 2 ** 20;
/**
 * The most that is known to work: the 200,000-output decoder (d = 2, mean and std nets) computed its
 * expected metric at batch 64, 307 MB of such tensors, and ran out at 1024. Beyond this a request is refused.
 */
export const TANGENT_BYTES_MAX = 256 * 2 ** 20;

function widestLayer(net: Mlp): number {
  return Math.max(0, ...net.layers.flatMap((l) => (l.kind === 'dense' ? [l.kernel.shape[0], l.kernel.shape[1]] : [])));
}

/**
 * Float32 values of the widest tangent tensors (values and d tangent rows, of every net the metric
 * differentiates) per point.
 */
export function tangentFloatsPerPoint(decoder: GaussianDecoder, kind: DecoderMetricKind = 'expected'): number {
  const d = decoder.latentDim;
  let width = widestLayer(decoder.meanNet);
  const s = decoder.stdModel;
  if (kind === 'expected' && s.kind === 'net') width += widestLayer(s.net);
  if (kind === 'expected' && s.kind === 'rbf') width += Math.max(decoder.outputDim, s.rbf.centers.shape[0]);
  return (d + 1) * Math.max(width, d);
}

/**
 * The batch size to use: `requested` (the caller's preference for speed), lowered so that a batch's
 * widest tangent tensor stays within TANGENT_BYTES_PER_BATCH; `copies` counts points evaluated per point
 * of the batch (d + 1 for the shifted copies of Newton steps in the geodesic solver); `bytes` replaces the
 * budget. At least 1.
 */
export function jacobianBatchSize(decoder: GaussianDecoder, kind: DecoderMetricKind, requested: number, copies = 1, bytes = TANGENT_BYTES_PER_BATCH): number {
  const perPoint = 4 * copies * tangentFloatsPerPoint(decoder, kind);
  return Math.max(1, Math.min(requested, Math.floor(bytes / perPoint)));
}
