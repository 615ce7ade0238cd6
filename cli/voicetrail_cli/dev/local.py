"""`voicetrail serve`: the real Lambda handlers behind a local HTTP API, without Docker.

* An embedded moto server plays DynamoDB; the table is created from template.yaml.
* Each request becomes an API Gateway HTTP API (payload v2) event, exactly as AWS would send it
  (form bodies base64-encoded, lower-case headers, rawPath/rawQueryString).
* Handlers run in a pool of worker processes, one invocation at a time per worker, like Lambda
  execution environments: module state and Powertools metrics are never shared between requests
  in flight.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from voicetrail_cli.ops.stackconfig import StackSettings
from voicetrail_cli.ops.template import (
    FunctionSpec,
    Route,
    functions,
    load_template,
    parameter_defaults,
    resolve_local_env,
    table_definition,
)
from voicetrail_cli.target import LOCAL_TABLE, dynamodb_admin_client

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway HTTP API payload quota
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


LOCAL_PEPPER = "local-hash-pepper"
LOCAL_PEPPER_ENV = "VOICETRAIL_LOCAL_HASH_PEPPER"


@dataclass
class LocalSecrets:
    """Secrets of the local stack. Fixed values make `voicetrail sign` and curl examples reproducible, and
    the fixed pepper lets `calls list --caller`, `dnc` and `erase` hash a number as the functions did."""

    vapi: str = "local-vapi-secret"
    twilio: str = "local-twilio-token"
    retell: str = "local-retell-key"  # `voicetrail sign --provider retell` signs with it by default
    elevenlabs: str = "local-elevenlabs-secret"  # and `--provider elevenlabs` with this one
    pepper: str = LOCAL_PEPPER

    def environ(self) -> dict[str, str]:
        return {
            "VOICETRAIL_LOCAL_VAPI_SECRET": self.vapi,
            "VOICETRAIL_LOCAL_TWILIO_AUTH_TOKEN": self.twilio,
            "VOICETRAIL_LOCAL_RETELL_API_KEY": self.retell,
            "VOICETRAIL_LOCAL_ELEVENLABS_WEBHOOK_SECRET": self.elevenlabs,
            LOCAL_PEPPER_ENV: self.pepper,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedDynamo:
    """moto's server on a loopback port, with our table created from template.yaml."""

    def __init__(self, port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        # Port 0: the OS picks a free port at bind time (no race with other processes).
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()


def ensure_table(client: Any, table_name: str = LOCAL_TABLE) -> None:
    kwargs, ttl_attribute = table_definition(load_template(), table_name)
    try:
        client.create_table(**kwargs)
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table_name)
    if ttl_attribute:
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )


def local_environment(
    spec: FunctionSpec,
    *,
    endpoint: str | None,
    base_url: str,
    local_secrets: LocalSecrets,
    table: str,
    settings: StackSettings | None = None,
) -> dict[str, str]:
    """A function's environment: the template's, with parameters from the defaults and the overrides
    (as `sam local`), the local table and secrets, then --env-vars."""
    settings = settings or StackSettings()
    template = load_template()
    parameters = {**parameter_defaults(template), **settings.parameters}
    overrides = {"TABLE_NAME": table, "VOICETRAIL_TRACING": "false"}
    if "Environment" not in settings.parameters:
        overrides["VOICETRAIL_ENV"] = "local"
    # Twilio signs the URL it called: through a tunnel that is the public URL, not 127.0.0.1.
    if settings.public_base_url:
        overrides["TWILIO_WEBHOOK_BASE_URL"] = settings.public_base_url
    elif not parameters.get("TwilioWebhookBaseUrl"):
        overrides["TWILIO_WEBHOOK_BASE_URL"] = base_url
    env = resolve_local_env(spec.environment, parameters=parameters, overrides=overrides)
    env.update(settings.function_env_vars(spec.logical_id, spec.name, spec.environment))
    env.update(local_secrets.environ())
    env["VOICETRAIL_ALLOW_ENV_SECRETS"] = "true"
    env["POWERTOOLS_SERVICE_NAME"] = spec.name
    if endpoint:
        env.update(_FAKE_AWS)
        env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    return env


# ---- worker side (runs in the pool's processes) ----------------------------------------------------

_HANDLERS: dict[str, Any] = {}
# Each function's environment: a worker hosts every function, and libraries (Powertools) read
# os.environ at request time, so an invocation runs with its own function's variables, as on Lambda.
_ENVIRONS: dict[str, dict[str, str]] = {}


def _load_handler(spec_name: str, code_dir: str, handler: str) -> Any:
    module_name, _, attr = handler.rpartition(".")
    path = Path(code_dir) / f"{module_name}.py"
    unique = f"voicetrail_fn_{spec_name}"
    module_spec = importlib.util.spec_from_file_location(unique, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[unique] = module
    if code_dir not in sys.path:
        sys.path.append(code_dir)
    module_spec.loader.exec_module(module)
    return getattr(module, attr)


def _init_worker(
    envs: dict[str, dict[str, str]], specs: list[tuple[str, str, str]], log_path: str | None
) -> None:
    if log_path:
        stream = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the worker
        sys.stdout = stream
        sys.stderr = stream
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request lines
    for name, code_dir, handler in specs:
        _ENVIRONS[name] = {**envs["__base__"], **envs[name]}
        _use_environ(name)
        _HANDLERS[name] = _load_handler(name, code_dir, handler)


def _use_environ(function: str) -> None:
    if os.environ != _ENVIRONS[function]:
        os.environ.clear()
        os.environ.update(_ENVIRONS[function])


@dataclass
class FakeLambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    deadline_ms: int = 0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _invoke(function: str, event: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    handler = _HANDLERS[function]
    _use_environ(function)
    context = FakeLambdaContext(
        function_name=function,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        deadline_ms=int((time.time() + timeout_s) * 1000),
    )
    try:
        result = handler(event, context)
    except Exception as exc:  # the Lambda runtime reports an unhandled error; API Gateway answers 500
        return {"__error__": type(exc).__name__}
    return result if isinstance(result, dict) else {"statusCode": 200, "body": json.dumps(result)}


# ---- front side ----------------------------------------------------------------------------------


def http_api_event(
    *, method: str, path: str, query: str, headers: dict[str, str], body: bytes, source_ip: str, route: Route
) -> dict[str, Any]:
    content_type = headers.get("content-type", "")
    is_text = content_type.startswith(_TEXT_TYPES)
    text_body: str | None = None
    if body:
        if is_text:
            try:
                text_body = body.decode("utf-8")
            except UnicodeDecodeError:
                is_text = False
        if not is_text:
            text_body = base64.b64encode(body).decode("ascii")
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(body) and not is_text,
    }
    if query:
        from urllib.parse import parse_qsl

        event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
    if text_body is not None:
        event["body"] = text_body
    return event


class LocalApi:
    """The running local stack: DynamoDB (moto), the worker pool and the HTTP server."""

    def __init__(
        self,
        *,
        port: int = 0,
        workers: int = 2,
        dynamodb_endpoint: str | None = None,
        use_aws: bool = False,
        log_path: str | None = None,
        local_secrets: LocalSecrets | None = None,
        table: str = LOCAL_TABLE,
        extra_env: dict[str, str] | None = None,
        settings: StackSettings | None = None,
    ) -> None:
        self.port = port  # 0: chosen by the OS when the server binds, in start()
        self.base_url = f"http://127.0.0.1:{port}"
        self.workers = workers
        self.secrets = local_secrets or LocalSecrets()
        self.table = table
        self.log_path = log_path
        self._use_aws = use_aws
        self._endpoint = dynamodb_endpoint
        self._extra_env = extra_env or {}
        self.settings = settings or StackSettings()
        self.environments: dict[str, dict[str, str]] = {}
        self._dynamo: EmbeddedDynamo | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._server: ThreadingHTTPServer | None = None
        self._routes: dict[tuple[str, str], Route] = {}
        self._serving = False
        self.specs = functions(load_template())

    @property
    def dynamodb_endpoint(self) -> str | None:
        return self._endpoint

    def start(self) -> LocalApi:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's request lines
        # Bind first: a port in use fails at once, and the functions' environment needs the real port
        # (Twilio signs the public URL).
        self._server = _LocalHttpServer(("127.0.0.1", self.port), _make_handler(self))
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        if not self._endpoint and not self._use_aws:
            self._dynamo = EmbeddedDynamo()
            self._endpoint = self._dynamo.start()
        ensure_table(dynamodb_admin_client(self._endpoint), self.table)
        base_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "VOICETRAIL_LOCAL"))
        }
        envs: dict[str, dict[str, str]] = {"__base__": base_env}
        for spec in self.specs:
            envs[spec.name] = {
                **local_environment(
                    spec,
                    endpoint=self._endpoint,
                    base_url=self.base_url,
                    local_secrets=self.secrets,
                    table=self.table,
                    settings=self.settings,
                ),
                **self._extra_env,
            }
            self.environments[spec.name] = envs[spec.name]
            for route in spec.routes:
                self._routes[(route.method, route.path)] = route
        import multiprocessing

        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(envs, [(s.name, str(s.code_dir), s.handler) for s in self.specs], self.log_path),
        )
        # Warm every worker (cold starts happen here, not in the first requests' latency).
        list(self._pool.map(_noop, range(self.workers)))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="voicetrail-http", daemon=True).start()
        self._serving = True
        return self

    def invoke(self, function: str, event: dict[str, Any], timeout_s: float = 30.0) -> dict[str, Any]:
        if self._pool is None:
            raise RuntimeError("local API not started")
        return self._pool.submit(_invoke, function, event, timeout_s).result(timeout=timeout_s + 30)

    def route(self, method: str, path: str) -> Route | None:
        return self._routes.get((method, path))

    def stop(self) -> None:
        if self._server:
            if self._serving:
                self._server.shutdown()
            self._server.server_close()
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._dynamo:
            self._dynamo.stop()

    def __enter__(self) -> LocalApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _LocalHttpServer(ThreadingHTTPServer):
    # API Gateway accepts bursts; the stdlib default backlog of 5 refuses connections under 100 senders.
    request_queue_size = 1024
    daemon_threads = True


_BAD_LENGTH = -1
_ASCII_DIGITS = re.compile(r"[0-9]+")


def _content_length(values: list[str]) -> int:
    """The request's body length, 0 without the header, or _BAD_LENGTH when it is not one non-negative
    ASCII decimal (RFC 9110 8.6: a list of equal values is one value; anything else is invalid)."""
    if not values:
        return 0
    parts = {part.strip() for value in values for part in value.split(",")}
    if len(parts) != 1:
        return _BAD_LENGTH
    (text,) = parts
    if not _ASCII_DIGITS.fullmatch(text):
        return _BAD_LENGTH
    return int(text) if len(text) <= 12 else MAX_PAYLOAD + 1  # never convert a 4,000-digit "number"


def _noop(_: int) -> None:
    return None


def _make_handler(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "voicetrail-local"
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return  # request lines would print paths with query strings; keep the console clean

        def _dispatch(self) -> None:
            path, _, query = self.path.partition("?")
            length = _content_length(self.headers.get_all("content-length") or [])
            if self.headers.get("transfer-encoding"):
                length = _BAD_LENGTH  # API Gateway takes chunked bodies; this front does not: a clear 400
            if length == _BAD_LENGTH:
                # The body's end is unknown: answer, then close, rather than read the rest as a request.
                self.close_connection = True
                self._send(400, {"message": "Bad Request: invalid Content-Length"}, {"connection": "close"})
                return
            if length > MAX_PAYLOAD:
                self.close_connection = True
                self._send(413, {"message": "Request Entity Too Large"}, {"connection": "close"})
                return
            body = self.rfile.read(length) if length else b""
            if path.startswith("/_local/invoke/") and self.command == "POST":
                self._local_invoke(path.removeprefix("/_local/invoke/"), body)
                return
            route = api.route(self.command, path)
            if route is None:
                self._send(404, {"message": "Not Found"}, {})
                return
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            event = http_api_event(
                method=self.command,
                path=path,
                query=query,
                headers=headers,
                body=body,
                source_ip=self.client_address[0],
                route=route,
            )
            result = api.invoke(route.function, event)
            if "__error__" in result:
                self._send(500, {"message": "Internal Server Error"}, {})
                return
            self._send_raw(
                int(result.get("statusCode", 200)),
                _response_body(result),
                {str(k): str(v) for k, v in (result.get("headers") or {}).items()},
            )

        def _local_invoke(self, function: str, body: bytes) -> None:
            try:
                event = json.loads(body or b"{}")
            except (ValueError, RecursionError):
                event = None
            if not isinstance(event, dict):
                self._send(400, {"message": "Bad Request: the invoke body must be a JSON object"}, {})
                return
            result = api.invoke(function, event, timeout_s=300)
            self._send(200, result, {})

        def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
            self._send_raw(
                status, json.dumps(payload).encode(), {"content-type": "application/json", **headers}
            )

        def _send_raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = _dispatch  # noqa: N815 - BaseHTTPRequestHandler naming
        do_GET = _dispatch  # noqa: N815
        do_PUT = _dispatch  # noqa: N815
        do_DELETE = _dispatch  # noqa: N815

    return Handler


def _response_body(result: dict[str, Any]) -> bytes:
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")


@contextlib.contextmanager
def running_stack(**kwargs: Any) -> Iterator[LocalApi]:
    api = LocalApi(**kwargs).start()
    try:
        yield api
    finally:
        api.stop()
