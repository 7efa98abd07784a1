"""The HTTP API (FastAPI): app factory, schemas, error contract, settings, index cache."""

import os

# One BLAS thread per process: a request's work is one matrix-vector product, which gains
# nothing from BLAS threads, and their spin-waiting thrashes when requests or other processes
# share the cores (measured: a 10k x 512 product took 16 ms with 2 threads vs 0.8 ms with 1 on
# a busy 2-core machine). Set before numpy is first imported (the serving entry points import
# this package before anything that imports numpy); an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
