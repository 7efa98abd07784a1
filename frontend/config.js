// Reads GET /api/config into what the start screen needs. The API sends
// {pools: {tag: [values]}, pool_sizes: {tag: {value: n}}, celebrities,
//  choices|rounds|k: {min, max, default}, default_strategy}.

function bounds(value) {
  const min = Number(value.min);
  const max = Number(value.max);
  return { min, max, default: Math.min(max, Math.max(min, Number(value.default))) };
}

export function readConfig(raw) {
  const sizes = raw.pool_sizes ?? {};
  const everyone = Number(raw.celebrities) || Infinity;
  return {
    choices: bounds(raw.choices),
    rounds: bounds(raw.rounds),
    k: Number(raw.k?.default ?? 7),
    strategy: raw.default_strategy,
    pools: Object.entries(raw.pools ?? {})
      .filter(([, values]) => Array.isArray(values) && values.length)
      .map(([tag, values]) => ({ tag, values: values.map(String) })),
    // A person never appears twice in a quiz, so choices x rounds must fit in the pool.
    capacity(pool) {
      const [tag, value] = Object.entries(pool || {})[0] ?? [];
      return tag === undefined ? everyone : Number(sizes[tag]?.[value]) || everyone;
    },
  };
}
