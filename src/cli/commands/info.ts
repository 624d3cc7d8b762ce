/**
 * `latent-geometry info`: what a decoder-json file holds (dimensions, nets, layers, latent codes), after
 * checking it as the other commands would.
 */
import { defineCommand, table } from '../args';
import type { Mlp } from '../../lib/nn/mlp';
import type { StdModel } from '../../lib/models/decoder';
import { printable } from '../../lib/util/errors';
import { announceBackend, buildDecoder, readJsonFile, startBackend } from './common';

export interface NetInfo {
  layers: string[];
  parameters: number;
}

export interface DecoderInfo {
  file: string;
  description: string | null;
  latent_dim: number;
  output_dim: number;
  mean_net: NetInfo;
  /** 'none' for a deterministic decoder. */
  std: { kind: 'none' } | ({ kind: 'sigma_net' } & NetInfo) | { kind: 'rbf'; centers: number; zeta: number; parameters: number };
  /** Number of encoded training points, or null. */
  latent_codes: number | null;
}

export const infoCommand = defineCommand({
  name: 'info',
  summary: 'dimensions, nets and layers of a decoder-json file',
  description: 'Checks a decoder-json/v1 file and describes it: latent and output dimension, the mean net and the\nstd model layer by layer, and whether it carries the latent codes of its training data.',
  options: {
    decoder: { kind: 'string', valueName: 'FILE', required: true, description: 'decoder-json/v1 file' },
    json: { kind: 'flag', description: 'print JSON instead of text' },
  },
  examples: ['latent-geometry info --decoder decoder.json', 'latent-geometry info --decoder decoder.json --json'],
  async run(opts) {
    const json = readJsonFile(opts.decoder);
    const backend = await startBackend();
    const { decoder, latentCodes, description } = buildDecoder(json, opts.decoder);
    try {
      announceBackend(backend);
      const info: DecoderInfo = {
        file: opts.decoder,
        description: description ?? null,
        latent_dim: decoder.latentDim,
        output_dim: decoder.outputDim,
        mean_net: netInfo(decoder.meanNet),
        std: stdInfo(decoder.stdModel),
        latent_codes: latentCodes ? latentCodes.length / decoder.latentDim : null,
      };
      process.stdout.write(opts.json ? `${infoJson(info)}\n` : formatInfo(info));
    } finally {
      decoder.dispose();
    }
  },
});

/**
 * The info as JSON. JSON.stringify escapes C0 controls but leaves DEL, the C1 controls (U+009B is a
 * terminal's CSI) and U+2028/9 raw; escaped, the JSON is the same and safe to print.
 */
export function infoJson(info: DecoderInfo): string {
  return JSON.stringify(info, null, 2).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function netInfo(net: Mlp): NetInfo {
  const layers = net.layers.map((l) => {
    if (l.kind === 'dense') return `linear ${l.kernel.shape[0]} -> ${l.kernel.shape[1]}`;
    const extras = [l.spec.beta !== undefined ? `beta ${l.spec.beta}` : '', l.spec.threshold !== undefined ? `threshold ${l.spec.threshold}` : ''].filter(Boolean);
    return extras.length ? `${l.spec.name} (${extras.join(', ')})` : l.spec.name;
  });
  return { layers, parameters: net.variables().reduce((s, v) => s + v.size, 0) };
}

function stdInfo(s: StdModel): DecoderInfo['std'] {
  switch (s.kind) {
    case 'none':
      return { kind: 'none' };
    case 'net':
      return { kind: 'sigma_net', ...netInfo(s.net) };
    case 'rbf':
      return { kind: 'rbf', centers: s.rbf.centers.shape[0], zeta: s.rbf.zeta, parameters: s.rbf.centers.size + s.rbf.bandwidths.size + s.rbf.weightT.size };
  }
}

export function formatInfo(info: DecoderInfo): string {
  const net = (n: NetInfo) => `${n.layers.join(', ')} (${n.parameters.toLocaleString('en-US')} parameters)`;
  const std =
    info.std.kind === 'none'
      ? 'none: a deterministic decoder (the metric is J_mu^T J_mu)'
      : info.std.kind === 'sigma_net'
        ? `sigma_net: ${net(info.std)}`
        : `rbf precision net: ${info.std.centers} centres, zeta ${info.std.zeta} (${info.std.parameters.toLocaleString('en-US')} parameters)`;
  const rows: [string, string][] = [
    ['latent_dim', String(info.latent_dim)],
    ['output_dim', String(info.output_dim)],
    ['mean_net', net(info.mean_net)],
    ['std', std],
    ['latent_codes', info.latent_codes === null ? 'none' : `${info.latent_codes} points`],
  ];
  // The description is the file's text: escape codes and newlines in it are shown, not obeyed.
  if (info.description) rows.unshift(['description', printable(info.description)]);
  return [printable(info.file), ...table(rows), ''].join('\n');
}
