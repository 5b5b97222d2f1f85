// What stands between an uploaded file and the decoder: the header's pixel budget, the guarded
// PNG chunk stream, and the decode worker's time bound. The bombs are real (bombs.ts): fast-png
// on its own would unpack every byte of them.
import { afterAll, describe, expect, it } from "vitest";
import { decode, encode } from "fast-png";
import { createImageDecoder } from "../../server/decoder.ts";
import { BadImageError, ImageTooLargeError } from "../../server/pipeline/image-errors.ts";
import { checkImageBudget, MAX_IMAGE_PIXELS, readImageHeader } from "../../server/pipeline/image-header.ts";
import { guardPng, inflatedPngSize } from "../../server/pipeline/png-guard.ts";
import { decodePngSafely } from "../../server/pipeline/safe-png.ts";
import { greyPng, iccpBomb, jpegBomb, largestJpegBomb, largestPngBomb, pngBomb, streamBomb } from "./bombs.ts";
import { flatRgb, rgbPng } from "./images.ts";

describe("header and pixel budget", () => {
  it("reads PNG and JPEG sizes from the header alone", () => {
    expect(readImageHeader(pngBomb(20000))).toEqual({ format: "png", width: 20000, height: 20000, bytesPerPixel: 1, layout: "8-bit greyscale" });
    expect(readImageHeader(jpegBomb(640, 480))).toEqual({ format: "jpeg", width: 640, height: 480 });
    expect(readImageHeader(largestJpegBomb(2 << 20))).toEqual({ format: "jpeg", width: 65535, height: 65535 });
    expect(() => readImageHeader(Uint8Array.from([0x47, 0x49, 0x46, 0x38]))).toThrow(/GIF; send it as PNG/);
    expect(() => readImageHeader(new Uint8Array(10))).toThrow(BadImageError);
  });

  it("refuses anything over the budget, PNG or JPEG, with the sizes in the sentence", () => {
    const side = Math.sqrt(MAX_IMAGE_PIXELS);
    expect(checkImageBudget(greyPng(side, side, 1)).width).toBe(side);
    for (const bomb of [pngBomb(side + 1), pngBomb(10000), largestPngBomb(2 << 20), jpegBomb(10000, 10000), largestJpegBomb(2 << 20)]) {
      expect(() => checkImageBudget(bomb, "The photo")).toThrow(ImageTooLargeError);
    }
    expect(() => checkImageBudget(pngBomb(20000), "The photo")).toThrow(/The photo declares 20000 × 20000 pixels; the server reads at most 16.8 megapixels/);
  });
});

describe("guarded PNG stream", () => {
  it("knows how many bytes a pixel stream unpacks to, interlaced or not", () => {
    expect(inflatedPngSize(10, 3, 8, false)).toBe(3 * 11);
    expect(inflatedPngSize(3, 2, 1, false)).toBe(2 * 2);
    // 8 x 8 Adam7 passes: 1x1, 1x1, 2x1, 2x2, 4x2, 4x4, 8x4 -> rows of 1 + width bytes
    expect(inflatedPngSize(8, 8, 8, true)).toBe(2 + 2 + 3 + 2 * 3 + 2 * 5 + 4 * 5 + 4 * 9);
    const png = encode({ width: 7, height: 5, data: new Uint8Array(7 * 5 * 3), channels: 3, depth: 8 });
    expect(guardPng(png)).toBe(png); // nothing to drop, nothing copied
  });

  it("refuses a stream that holds more than its header declares, before unpacking it", () => {
    const bomb = streamBomb(64); // 64 x 64 declared, 400 MiB inside
    const started = performance.now();
    expect(() => guardPng(bomb)).toThrow(/unpacks to more than its header declares/);
    expect(performance.now() - started).toBeLessThan(500);
    expect(() => decodePngSafely(bomb)).toThrow(BadImageError);
    expect(() => guardPng(greyPng(64, 64, 64 * 65 - 1))).toThrow(/shorter than its header/);
  });

  it("drops compressed extras (an ICC profile bomb) and decodes the picture", () => {
    const bomb = iccpBomb(16);
    const started = performance.now();
    const png = decodePngSafely(bomb);
    expect(performance.now() - started).toBeLessThan(500);
    expect([png.width, png.height, png.iccEmbeddedProfile]).toEqual([16, 16, undefined]);
    expect(decode(guardPng(bomb)).data).toEqual(decode(greyPng(16, 16)).data);
  });

  it("refuses truncated and headerless PNGs with a sentence", () => {
    const png = greyPng(8, 8);
    expect(() => guardPng(png.subarray(0, png.length - 20))).toThrow(BadImageError);
    expect(() => decodePngSafely(png.subarray(0, 30))).toThrow(BadImageError);
  });
});

describe("decode worker", () => {
  const decoder = createImageDecoder();
  afterAll(() => decoder.close());

  it("decodes in a worker and answers refusals as protocol errors", async () => {
    const photo = await decoder.photo(rgbPng(flatRgb(100, 80, 9), 100, 80), 64, "The photo");
    expect(photo.ok && [photo.value.width, photo.value.height, photo.value.rgb[0]]).toEqual([64, 64, 9]);
    const big = await decoder.photo(pngBomb(20000), 64, "The photo");
    expect(big).toMatchObject({ ok: false, code: "image_too_large" });
    const jpeg = await decoder.photo(jpegBomb(640, 480), 64, "The photo");
    expect(jpeg).toMatchObject({ ok: false, code: "bad_image", message: expect.stringMatching(/JPEG; send it as PNG/) });
    const inner = await decoder.photo(streamBomb(256), 64, "The photo");
    expect(inner).toMatchObject({ ok: false, code: "bad_image" });
    const small = await decoder.photo(rgbPng(flatRgb(20, 20, 9), 20, 20), 64, "The photo");
    expect(small).toMatchObject({ ok: false, code: "image_too_small" });
  });

  it("stops a decode past its time bound, and the next one works", async () => {
    const hasty = createImageDecoder({ timeoutMs: 1 });
    try {
      const slow = await hasty.photo(greyPng(4096, 4096), 64, "The photo");
      expect(slow).toMatchObject({ ok: false, code: "timeout", message: expect.stringMatching(/took longer than/) });
    } finally {
      await hasty.close();
    }
    expect(await decoder.photo(rgbPng(flatRgb(64, 64, 1), 64, 64), 64, "The photo")).toMatchObject({ ok: true });
  });
});
