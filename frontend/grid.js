// Lays out N faces so that all of them fit the space available (no scrolling during a round)
// and each face is as large as possible.

/**
 * Best column count for `n` tiles of aspect `tileAspect` (height / width) in a box
 * `width` x `height` with `gap` px between tiles. Returns {cols, tileWidth}.
 */
function bestGrid(n, width, height, tileAspect = 1, gap = 12) {
  let best = { cols: 1, tileWidth: 0 };
  for (let cols = 1; cols <= n; cols += 1) {
    const rows = Math.ceil(n / cols);
    const byWidth = (width - gap * (cols - 1)) / cols;
    const byHeight = (height - gap * (rows - 1)) / rows / tileAspect;
    const tileWidth = Math.floor(Math.min(byWidth, byHeight));
    // Prefer fewer empty cells when sizes tie (e.g. 4 faces as 2x2 rather than 3+1).
    if (tileWidth > best.tileWidth + 1) best = { cols, tileWidth };
  }
  return best;
}

/**
 * Keeps `grid` sized to fill `area` (a box whose size does not depend on the grid) as the
 * window changes; returns a function to stop.
 */
export function fitGrid(area, grid, n, tileAspect) {
  const apply = () => {
    const box = area.getBoundingClientRect();
    const gap = parseFloat(getComputedStyle(grid).columnGap) || 12;
    const { cols, tileWidth } = bestGrid(n, box.width, box.height, tileAspect, gap);
    grid.style.setProperty("--cols", cols);
    grid.style.setProperty("--tile", `${Math.max(tileWidth, 60)}px`);
    grid.style.setProperty("--ratio", `1 / ${tileAspect}`);
  };
  const observer = new ResizeObserver(apply);
  observer.observe(area);
  apply();
  return () => observer.disconnect();
}
