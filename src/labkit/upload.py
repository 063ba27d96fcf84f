"""Send a protocol to an Opentrons robot over its HTTP API, wait for the robot's analysis, optionally create a run.

The robot server (port 31950) wants every request to carry an `Opentrons-Version` header ("*" = latest).
    POST /protocols                 multipart/form-data, one `files` part per file   -> 201 (200 if known)
    GET  /protocols/{id}/analyses   data[-1].status: pending -> completed; result ok | not-ok | ...
    POST /runs                      {"data": {"protocolId": id}}                     -> 201
Errors come back as {"errors": [{"id", "title", "detail", ...}]}. Standard library only (urllib).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib import error as urlerror
from urllib import request as urlrequest

import click

from labkit.errors import UploadError

DEFAULT_PORT = 31950
VERSION_HEADER = {"Opentrons-Version": "*"}


@dataclass
class UploadResult:
    """What the robot said about an uploaded protocol."""

    protocol_id: str
    analysis_id: str = ""
    status: str = ""  # analysis status: completed (or pending if we stopped waiting)
    result: str = ""  # ok | not-ok | parameter-value-required
    errors: list[str] = field(default_factory=list)
    robot_type: str = ""
    run_id: str | None = None
    created: bool = True  # False: the robot already had these exact files

    @property
    def ok(self) -> bool:
        return self.status == "completed" and self.result == "ok" and not self.errors


def _multipart(path: Path) -> tuple[bytes, str]:
    """A multipart/form-data body with the file as the `files` part, and its content type."""
    boundary = "labkit-" + uuid.uuid4().hex
    name = path.name.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")
    ctype = "text/x-python" if path.suffix == ".py" else "application/json"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: {ctype}\r\n\r\n").encode("utf-8")
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode("ascii")
    return body, f"multipart/form-data; boundary={boundary}"


def _error_text(body: bytes) -> str:
    """The robot's error detail from an error body (or the raw text)."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body.decode("utf-8", "replace").strip()[:500]
    errs = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errs, list) and errs:
        parts = []
        for e in errs:
            title, detail = str(e.get("title", "") or e.get("id", "")), str(e.get("detail", ""))
            parts.append(f"{title}: {detail}" if title and detail else title or detail)
        return "; ".join(parts)
    if isinstance(doc, dict) and "detail" in doc:
        return str(doc["detail"])
    return json.dumps(doc)[:500]


class RobotClient:
    """Minimal JSON client for one robot (host, port)."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.base = f"http://{host}:{port}"

    def request(self, method: str, path: str, *, data: bytes | None = None, content_type: str | None = None,
                what: str = "") -> tuple[int, dict]:
        """Send one request; return (status, JSON body); raise UploadError for transport and HTTP errors."""
        headers = dict(VERSION_HEADER, Accept="application/json")
        if content_type:
            headers["Content-Type"] = content_type
        req = urlrequest.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urlrequest.urlopen(req, timeout=self.timeout) as resp:
                status, body = resp.status, resp.read()
        except urlerror.HTTPError as exc:
            detail = _error_text(exc.read() or b"")
            raise UploadError(f"the robot at {self.host}:{self.port} refused {what or method + ' ' + path} "
                              f"(HTTP {exc.code}): {detail}") from None
        except urlerror.URLError as exc:
            raise UploadError(self._unreachable(exc.reason)) from None
        except (socket.timeout, TimeoutError, ConnectionError) as exc:
            raise UploadError(self._unreachable(exc)) from None
        try:
            return status, json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise UploadError(f"{self.host}:{self.port} answered {path} with something that is not JSON; "
                              "is it an Opentrons robot?") from None

    def _unreachable(self, reason: object) -> str:
        if isinstance(reason, (socket.timeout, TimeoutError)):
            why = f"no answer within {self.timeout:g} s"
        elif isinstance(reason, ConnectionRefusedError):
            why = "connection refused (is the robot on and is this its address?)"
        elif isinstance(reason, socket.gaierror):
            why = "unknown host name"
        else:
            why = str(reason)
        return f"cannot reach the robot at {self.host}:{self.port}: {why}"


def upload_protocol(path: str | Path, host: str, *, port: int = DEFAULT_PORT, run: bool = False,
                    timeout: float = 300.0, poll: float = 1.0,
                    echo: Callable[[str], None] | None = None) -> UploadResult:
    """Upload a protocol, wait for the robot's analysis, create a run if asked; UploadError if any step fails."""
    p = Path(path)
    if not p.is_file():
        raise UploadError("no such protocol file", file=p)
    say = echo or (lambda _msg: None)
    client = RobotClient(host, port, timeout=min(max(timeout, 0.1), 30.0))
    body, ctype = _multipart(p)
    status, doc = client.request("POST", "/protocols", data=body, content_type=ctype, what="the protocol")
    data = doc.get("data") or {}
    pid = str(data.get("id", ""))
    if not pid:
        raise UploadError(f"the robot at {host}:{port} accepted the upload but returned no protocol id")
    res = UploadResult(pid, robot_type=str(data.get("robotType", "")), created=status == 201)
    say(f"uploaded {p.name} to {host}:{port}: protocol id {pid}" + ("" if res.created else " (already there)"))

    deadline = time.monotonic() + timeout
    analysis: dict = {}
    while True:
        _, doc = client.request("GET", f"/protocols/{pid}/analyses", what="the analysis request")
        items = doc.get("data") or []
        analysis = items[-1] if items else {}
        if analysis.get("status") == "completed":
            break
        if time.monotonic() >= deadline:
            res.status = str(analysis.get("status", "pending"))
            raise UploadError(f"the robot's analysis of protocol {pid} did not finish within {timeout:g} s "
                              f"(status {res.status})")
        time.sleep(poll)
    res.analysis_id = str(analysis.get("id", ""))
    res.status, res.result = "completed", str(analysis.get("result", ""))
    for e in analysis.get("errors") or []:
        res.errors.append(str(e.get("detail") or e.get("errorType") or e))
    if not res.ok:
        raise UploadError(f"the robot's analysis of protocol {pid} failed (result {res.result or '?'})",
                          file=p, problems=res.errors or [f"result: {res.result}"])
    say(f"robot analysis: ok ({len(analysis.get('commands') or [])} commands)")
    if run:
        _, doc = client.request("POST", "/runs", data=json.dumps({"data": {"protocolId": pid}}).encode(),
                                content_type="application/json", what="the new run")
        res.run_id = str((doc.get("data") or {}).get("id", "")) or None
        say(f"run created: {res.run_id} (start it from the robot or the Opentrons App)")
    return res


@click.command("upload")
@click.argument("protocol", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", required=True, help="Robot IP address or host name.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Robot HTTP API port.")
@click.option("--run", "create_run", is_flag=True, help="Also create a run of the protocol (not started).")
@click.option("--timeout", default=300.0, show_default=True, type=float,
              help="Seconds to wait for the robot's analysis.")
def upload(protocol: Path, host: str, port: int, create_run: bool, timeout: float) -> int:
    """Send PROTOCOL to an Opentrons robot, wait for its analysis and print the result and the protocol id.

    Exit 0 when the robot analysed the protocol without errors, 1 when the robot cannot be reached, refuses the
    protocol or its analysis fails.

    \b
    Example:
      labkit upload protocols/kinase_panel_flex.py --host 192.168.1.42
      labkit upload protocols/viability_km12_ot2.py --host ot2.local --run
    """
    res = upload_protocol(protocol, host, port=port, run=create_run, timeout=timeout, echo=click.echo)
    click.echo(f"protocol id: {res.protocol_id}")
    if res.run_id:
        click.echo(f"run id: {res.run_id}")
    return 0
