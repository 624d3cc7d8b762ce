/**
 * 8-bit grayscale PNG files (PNG 1.2: IHDR, one zlib IDAT, IEND), for exporting generated images to tools
 * that read image folders (pytorch-fid, TTUR's fid.py). Pixels in [0, 1] become floor(255 x), as the
 * official code's `(255. * x).astype('uint8')` does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { InputError } from '../util/errors';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG chunks use). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A grayscale PNG of one image, row-major [height, width] values in [0, 1] (clipped), with `pad` black
 * pixels added on every side (MNIST 28 x 28 padded by 2 is the official code's 32 x 32).
 */
export function encodeGrayPng(pixels: ArrayLike<number>, height: number, width: number, pad = 0): Buffer {
  if (pixels.length !== height * width) throw new InputError('encodeGrayPng.pixels', `expected ${height} x ${width} = ${height * width} values, got ${pixels.length}`);
  const [h, w] = [height + 2 * pad, width + 2 * pad];
  const raw = Buffer.alloc(h * (w + 1)); // each row: filter byte 0 (none), then w bytes
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x];
      raw[(y + pad) * (w + 1) + 1 + x + pad] = Math.floor(255 * Math.min(1, Math.max(0, v)));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (grayscale), deflate, filter 0, no interlace
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/**
 * Writes images [N, height * width] as dir/00000000.png ... (the official code's names), replacing the
 * folder's PNGs. Returns the bytes written.
 */
export function writeImageFolder(dir: string, images: Float32Array, height: number, width: number, pad = 0): number {
  const pixels = height * width;
  if (images.length % pixels !== 0) throw new InputError('writeImageFolder.images', `expected rows of ${pixels} pixels, got ${images.length} values`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.png')) fs.rmSync(path.join(dir, f));
  let bytes = 0;
  for (let i = 0; i < images.length / pixels; i++) {
    const png = encodeGrayPng(images.subarray(i * pixels, (i + 1) * pixels), height, width, pad);
    fs.writeFileSync(path.join(dir, `${String(i).padStart(8, '0')}.png`), png);
    bytes += png.length;
  }
  return bytes;
}
