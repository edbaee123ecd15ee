"""An OTLP/HTTP trace receiver for the tests, decoding with the official OpenTelemetry
protobuf definitions (PyPI `opentelemetry-proto`; `./dev test` installs it into
target/otlp-venv).

    receiver.py OUT.jsonl

Listens on 127.0.0.1 (a free port, printed as `listening PORT` on stdout), accepts
POST /v1/traces with `application/x-protobuf` bodies, and appends one JSON line per span
received to OUT.jsonl before it answers, so a span is on disk once its exporter has its
answer. Anything else gets 404/415 and is noted in OUT.jsonl as `{"rejected": ...}`.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

OUT = sys.argv[1]


def value(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attrs(v.kvlist_value.values)
    return getattr(v, kind) if kind else None


def attrs(kvs):
    return {kv.key: value(kv.value) for kv in kvs}


def spans(request):
    for rs in request.resource_spans:
        resource = attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                yield {
                    "resource": resource,
                    "scope": ss.scope.name,
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "trace_state": s.trace_state,
                    "name": s.name,
                    "kind": s.kind,
                    "attributes": attrs(s.attributes),
                    "events": [{"name": e.name, "attributes": attrs(e.attributes)} for e in s.events],
                    "status": {"code": s.status.code, "message": s.status.message},
                    "start": s.start_time_unix_nano,
                    "end": s.end_time_unix_nano,
                }


def note(record):
    with open(OUT, "a") as f:
        f.write(json.dumps(record) + "\n")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path != "/v1/traces":
            note({"rejected": f"path {self.path}"})
            return self.answer(404, b"")
        if self.headers.get("content-type") != "application/x-protobuf":
            note({"rejected": f"content-type {self.headers.get('content-type')}"})
            return self.answer(415, b"")
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as e:
            note({"rejected": f"not an ExportTraceServiceRequest: {e}"})
            return self.answer(400, b"")
        with open(OUT, "a") as f:
            for s in spans(request):
                f.write(json.dumps(s) + "\n")
        self.answer(200, ExportTraceServiceResponse().SerializeToString())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
