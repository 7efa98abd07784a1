// The "ideal face": the pixel average of the aligned face crops the user picked, computed in the
// browser. Averaging faces is the idea behind the original method (the mean of the picked faces'
// embeddings); the picture shows that mean in pixels.
import { loadImage } from "./images.js";

const SIZE = 320;

/** Draws the average of `urls` onto `canvas`; resolves to the number of faces averaged. */
export async function drawComposite(canvas, urls) {
  const images = (await Promise.all(urls.map((url) => loadForPixels(url)))).filter(Boolean);
  if (!images.length) return 0;
  const first = images[0];
  const aspect = first.naturalHeight / first.naturalWidth || 1;
  canvas.width = SIZE;
  canvas.height = Math.round(SIZE * aspect);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  try {
    averageExactly(ctx, images, canvas.width, canvas.height);
  } catch {
    // Crops from a CDN without CORS taint the canvas, so pixels cannot be read back:
    // a running alpha blend gives the same average to within 8-bit rounding.
    averageByBlending(ctx, images, canvas.width, canvas.height);
  }
  return images.length;
}

async function loadForPixels(url) {
  try {
    return await loadImage(url, { crossOrigin: true });
  } catch {
    try {
      return await loadImage(url);
    } catch {
      return null; // one missing crop should not spoil the blend of the others
    }
  }
}

function drawCover(ctx, img, width, height) {
  // Crops may differ in size; scale each to cover the canvas, centred, as the crops are aligned.
  const scale = Math.max(width / img.naturalWidth, height / img.naturalHeight);
  const w = img.naturalWidth * scale;
  const h = img.naturalHeight * scale;
  ctx.drawImage(img, (width - w) / 2, (height - h) / 2, w, h);
}

function averageExactly(ctx, images, width, height) {
  const sum = new Float32Array(width * height * 4);
  for (const img of images) {
    ctx.clearRect(0, 0, width, height);
    drawCover(ctx, img, width, height);
    const { data } = ctx.getImageData(0, 0, width, height); // throws on a tainted canvas
    for (let i = 0; i < data.length; i += 1) sum[i] += data[i];
  }
  const out = ctx.createImageData(width, height);
  for (let i = 0; i < sum.length; i += 1) out.data[i] = Math.round(sum[i] / images.length);
  ctx.putImageData(out, 0, 0);
}

function averageByBlending(ctx, images, width, height) {
  ctx.clearRect(0, 0, width, height);
  images.forEach((img, i) => {
    ctx.globalAlpha = 1 / (i + 1);
    drawCover(ctx, img, width, height);
  });
  ctx.globalAlpha = 1;
}
