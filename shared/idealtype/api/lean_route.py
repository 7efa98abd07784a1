"""A FastAPI route class without the per-request dependency machinery, for the JSON API.

FastAPI's default route handler solves dependencies, validates path/query parameters through
pydantic fields, reads and validates the body and serializes the return value, on every
request. The API endpoints already parse their bodies themselves (`bodies.parse_body`) and
return finished `Response` objects, so most of that is pure overhead: measured in process, a
route with one path parameter cost ~35 us more than the same endpoint as a bare Starlette route
— as much as a whole pick's quiz work. `LeanRoute` keeps everything FastAPI derives from the
endpoint's signature at startup (OpenAPI parameters, response models, error responses) and
replaces only the request-time handler with a direct call: path parameters (which must be
`str`) are passed by name straight from Starlette's router match, and the `Request` as is.

Endpoints that need anything else (query parameters, dependencies, FastAPI-validated bodies,
sync functions) are rejected when the route is created, so a later change cannot silently
lose validation; they read query parameters from `request.query_params` themselves."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        dependant = self.dependant
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint
        unsupported = (dependant.query_params or dependant.header_params
                       or dependant.cookie_params or dependant.body_params
                       or dependant.dependencies or dependant.response_param_name
                       or dependant.background_tasks_param_name
                       or dependant.http_connection_param_name
                       or dependant.security_scopes_param_name)
        if unsupported or not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"LeanRoute {self.path}: the endpoint must be `async def` and take "
                            "only str path parameters and the Request")
        for param in dependant.path_params:
            if param.field_info.annotation is not str:
                raise TypeError(f"LeanRoute {self.path}: path parameter {param.name} must be str")
        request_name = dependant.request_param_name
        path_names = [param.name for param in dependant.path_params]

        async def handler(request: Request) -> Response:
            params: dict[str, Any] = request.path_params
            kwargs = {name: params[name] for name in path_names}
            if request_name:
                kwargs[request_name] = request
            return await endpoint(**kwargs)

        return handler
