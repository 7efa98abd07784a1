"""API Lambda entry point: the FastAPI app configured from the environment, behind Mangum.

Environment (see idealtype.api.settings): IDEALTYPE_INDEX=s3://bucket/prefix,
IDEALTYPE_SESSIONS=dynamodb://table, IDEALTYPE_FACES_BASE_URL, IDEALTYPE_CORS_ORIGINS, ...
The index is loaded here, at import, so the cold start's init phase pays for it once per
container; if it fails, requests answer 503 and retry the load.
"""

from __future__ import annotations

import logging

from mangum import Mangum

from idealtype.api.app import create_app
from idealtype.index_format import IndexError_

log = logging.getLogger("idealtype")
log.setLevel(logging.INFO)

app = create_app()
try:
    app.state.service.indexes.current()
except IndexError_ as err:
    log.error("index not loaded at start: %s", err)

handler = Mangum(app, lifespan="off")
