"""`cluster`: cluster sampling — each round shows one person from each of N different k-means
clusters of the celebrity centroids (clusters.npy), preferring the clusters shown least so far,
so every round contrasts different looks and the quiz covers the whole gallery."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..pool import Pool
from .base import RoundRecord, Strategy, random_images_of, register, sample_unused, shown_celebs


def cluster_members(pool: Pool) -> dict[int, np.ndarray]:
    """cluster label -> pool celebrity rows in it (only clusters with pool members)."""
    labels = pool.index.clusters[pool.celeb_rows]
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    ends = np.r_[starts[1:], len(order)]
    return {
        int(sorted_labels[s]): pool.celeb_rows[order[s:e]] for s, e in zip(starts, ends)
    }


@register
class ClusterStrategy(Strategy):
    name = "cluster"
    description = "One person from each of N different look clusters per round."

    def next_round(
        self, pool: Pool, history: Sequence[RoundRecord], choices: int, rng: np.random.Generator
    ) -> list[int]:
        members = pool.memo("cluster_members", cluster_members)
        avoid = shown_celebs(pool, history)
        times_shown = {label: 0 for label in members}
        for celeb in avoid:
            times_shown[int(pool.index.clusters[celeb])] += 1
        # Least-shown clusters first; random order among equals.
        labels = list(members)
        tiebreak = rng.random(len(labels))
        labels = [labels[i] for i in np.lexsort((tiebreak, [times_shown[x] for x in labels]))]
        people: list[int] = []
        for label in labels:
            if len(people) == choices:
                break
            try:
                (celeb,) = sample_unused(members[label], 1, avoid, rng)
            except ValueError:  # everyone in this cluster was already shown
                continue
            people.append(celeb)
            avoid.add(celeb)
        if len(people) < choices:
            # Fewer non-exhausted clusters than faces: fill from the rest of the pool.
            people += sample_unused(pool.celeb_rows, choices - len(people), avoid, rng)
        order = rng.permutation(len(people)).tolist()  # don't reveal the cluster order on screen
        return random_images_of(pool, [people[i] for i in order], rng)
