"""Build throughput on 1,000 LFW photos: the build job (`ShardRunner` + merge/publish) vs a
naive one-photo-at-a-time loop doing the same work, measured in the same run.

Both read + decode each photo, find its face, embed the 160 px crop with the converted CASIA
FaceNet, write a 256 px display crop, and end with embeddings for every face. The naive loop
is what the facenet-pytorch README suggests: `MTCNN.detect` on one photo, `extract_face`,
`InceptionResnetV1` on a batch of one, with torch's default threads. Each side runs in its
own subprocess, so its peak RSS is its own; images/s is wall clock, and images per CPU-second
is also reported because other jobs may share the machine.

    python bench/build_throughput.py [--gallery PATH] [--photos 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from build_bench_common import gallery_path, machine, write_result

TARGET_IMAGES_PER_S = 25.0
TARGET_RATIO = 1.5


def photo_keys(gallery: Path, n: int) -> list[str]:
    """The first n photos in name order (what `idealtype build --limit n` takes)."""
    from idealtype.blobstore import LocalBlobStore
    from idealtype.build.gallery_source import list_gallery, select_subset

    return [
        item.key for item in select_subset(list_gallery(LocalBlobStore(gallery)).items, limit=n)
    ]


def run_pipeline(gallery: Path, n: int, out: Path) -> dict:
    """The build job as `idealtype build GALLERY --out OUT --limit n` runs it."""
    from idealtype.cli import main

    started = time.perf_counter()
    code = main(["build", str(gallery), "--out", str(out), "--limit", str(n), "--no-progress"])
    assert code == 0
    return {"seconds": time.perf_counter() - started}


def run_naive(gallery: Path, n: int, out: Path) -> dict:
    import numpy as np
    import torch
    from facenet_pytorch import MTCNN, extract_face

    from idealtype.blobstore import LocalBlobStore
    from idealtype.build.face_crops import display_crop_jpeg
    from idealtype.build.image_decode import decode_image
    from idealtype.build.shard_runner import image_id_of
    from idealtype.build.weights import load_facenet
    from idealtype.index_format import face_crop_key

    started = time.perf_counter()  # end to end, like the build job: model loading included
    source, dest = LocalBlobStore(gallery), LocalBlobStore(out)
    mtcnn = MTCNN(device="cpu")
    model, _ = load_facenet()
    embeddings = []
    for key in photo_keys(gallery, n):
        data = source.get(key)
        image = decode_image(data).rgb
        boxes, _ = mtcnn.detect(image)  # sorted largest first (select_largest=True)
        if boxes is None:
            continue
        box = boxes[0]
        face = (extract_face(image, box, 160, margin=32) - 127.5) / 128.0
        with torch.inference_mode():
            embeddings.append(model(face.unsqueeze(0))[0].numpy())
        dest.put(face_crop_key(image_id_of(data)), display_crop_jpeg(image, tuple(box)))
    np.save(out / "embeddings.npy", np.stack(embeddings))
    return {"seconds": time.perf_counter() - started, "faces": len(embeddings)}


def child(mode: str, gallery: Path, n: int) -> None:
    """Run one side and print its figures as JSON (own process: own peak RSS)."""
    with tempfile.TemporaryDirectory() as tmp:
        figures = (run_pipeline if mode == "pipeline" else run_naive)(gallery, n, Path(tmp))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures.update(
        cpu_seconds=usage.ru_utime + usage.ru_stime, peak_rss_mb=round(usage.ru_maxrss / 1024)
    )
    print("RESULT " + json.dumps(figures))


def measure(mode: str, gallery: Path, n: int) -> dict:
    load_before = os.getloadavg()[0]
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--gallery", str(gallery), "--photos", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"{mode} run failed:\n{proc.stderr[-3000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    figures = json.loads(line[len("RESULT ") :])
    figures.update(
        photos=n,
        images_per_s=round(n / figures["seconds"], 2),
        images_per_cpu_s=round(n / figures["cpu_seconds"], 2),
        load_average_1min=[round(load_before, 2), round(os.getloadavg()[0], 2)],
        seconds=round(figures["seconds"], 1),
        cpu_seconds=round(figures["cpu_seconds"], 1),
    )
    print(f"{mode:>8}: {json.dumps(figures)}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", help="default $IDEALTYPE_GALLERY or ../shared/data/lfw")
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--child", choices=("pipeline", "naive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    gallery = gallery_path(args.gallery)
    if args.child:
        child(args.child, gallery, args.photos)
        return
    print(f"{args.photos} photos from {gallery}, {os.cpu_count()} CPUs", flush=True)
    pipeline = measure("pipeline", gallery, args.photos)
    naive = measure("naive", gallery, args.photos)
    ratio = pipeline["images_per_s"] / naive["images_per_s"]
    cpu_ratio = pipeline["images_per_cpu_s"] / naive["images_per_cpu_s"]
    print(
        f"build job {pipeline['images_per_s']:.1f} img/s (target {TARGET_IMAGES_PER_S}), naive "
        f"{naive['images_per_s']:.1f} img/s: {ratio:.2f}x (target {TARGET_RATIO}x); per CPU-second "
        f"{cpu_ratio:.2f}x; peak RSS {pipeline['peak_rss_mb']} MB vs {naive['peak_rss_mb']} MB"
    )
    write_result(
        "build_throughput.json",
        {
            "pipeline": pipeline,
            "naive": naive,
            "speedup": round(ratio, 2),
            "speedup_per_cpu_second": round(cpu_ratio, 2),
            "targets": {"images_per_s": TARGET_IMAGES_PER_S, "speedup": TARGET_RATIO},
            "meets_targets": pipeline["images_per_s"] >= TARGET_IMAGES_PER_S
            and ratio >= TARGET_RATIO,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
