// Images are shown only once they have fully loaded and decoded, so the quiz never shows a
// broken or half-drawn picture; a failed load is retried before it is reported.
import { assetUrl } from "./api.js";

const RETRIES = 2;

function loadOnce(src, crossOrigin) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    if (crossOrigin) img.crossOrigin = "anonymous";
    img.decoding = "async";
    img.onload = () => {
      // decode() makes the first paint of the image instant; a failed decode is a broken image.
      img.decode().then(() => resolve(img), () => reject(new Error(`cannot decode ${src}`)));
    };
    img.onerror = () => reject(new Error(`cannot load ${src}`));
    img.src = src;
  });
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to a loaded <img>, or rejects after RETRIES more attempts. */
export async function loadImage(url, { crossOrigin = false } = {}) {
  const src = assetUrl(url);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await loadOnce(src, crossOrigin);
    } catch (err) {
      if (attempt >= RETRIES) throw err;
      await pause(300 * (attempt + 1));
    }
  }
}

/** Loads all; rejects if any of them cannot be loaded. */
export function loadImages(urls, options) {
  return Promise.all(urls.map((url) => loadImage(url, options)));
}
