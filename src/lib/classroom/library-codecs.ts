/**
 * The library objects a check may pass to a student's function (transfer.ts): encoded from the check's
 * object as data, rebuilt on the student's side with the student's copy of the library. A decoder goes
 * as decoder-json/v1 (its weights); the reference metrics by their parameters.
 */
import { decoderFromJson, decoderToJson } from '../io/decoder-json';
import { GaussianDecoder } from '../models/decoder';
import { ConstantMetric, HalfPlaneMetric, StereographicSphere } from '../geometry/reference-metrics';
import { TransferError, type LibraryCodecs } from './transfer';

export const libraryCodecs: LibraryCodecs = {
  encode(value: object): unknown | undefined {
    if (value instanceof GaussianDecoder) return { $: 'lib:decoder', json: decoderToJson(value) };
    if (value instanceof ConstantMetric) return { $: 'lib:constant-metric', matrix: Array.from(value.matrix) };
    if (value instanceof HalfPlaneMetric) return { $: 'lib:half-plane-metric' };
    if (value instanceof StereographicSphere) return { $: 'lib:stereographic-sphere' };
    return undefined;
  },
  decode(tag: string, body: Record<string, unknown>): unknown {
    switch (tag) {
      case 'lib:decoder':
        return decoderFromJson(body.json, 'decoder passed by the check').decoder;
      case 'lib:constant-metric':
        if (!Array.isArray(body.matrix) || !body.matrix.every((x) => typeof x === 'number')) throw new TransferError('ConstantMetric: malformed matrix');
        return new ConstantMetric(Float64Array.from(body.matrix as number[]));
      case 'lib:half-plane-metric':
        return new HalfPlaneMetric();
      case 'lib:stereographic-sphere':
        return new StereographicSphere();
      default:
        throw new TransferError(`unknown library object ${tag}`);
    }
  },
};
