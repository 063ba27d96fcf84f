"""Send a protocol to an Opentrons robot over its HTTP API, wait for the robot's analysis, optionally create a run.

The robot server (port 31950) wants every request to carry an `Opentrons-Version` header ("*" = latest).
    POST /protocols                 multipart/form-data, one `files` part per file   -> 201 (200 if known)
    GET  /protocols/{id}/analyses   data[-1].status: pending -> completed; result ok | not-ok | ...
    POST /runs                      {"data": {"protocolId": id}}                     -> 201
Errors come back as {"errors": [{"id", "title", "detail", ...}]}. HTTP goes through httpx (imported on use):
timeouts on every request, and connection attempts retried (a request that never reached the robot is safe to
resend). The address is parsed and checked before any connection: only `host`, `host:port`, `[IPv6]:port` and
an optional `http://` in front are accepted.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import click

from labkit.cli_support import json_option, ui
from labkit.errors import LabkitError, UploadError

DEFAULT_PORT = 31950
VERSION_HEADER = {"Opentrons-Version": "*"}
CONNECT_RETRIES = 2  # extra connection attempts (httpx transport retries: connect errors only)
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


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


def _bad_address(text: str, why: str) -> LabkitError:
    return LabkitError(f"{why}; expected HOST or HOST:PORT, e.g. 192.168.1.42, ot2.local or 192.168.1.42:31950 "
                       f"(got {text!r})", field="--host")


def parse_address(host: str, port: int | None = None) -> tuple[str, int]:
    """Check a robot address before any connection: (host, port) from 'host', 'host:port' or '[v6]:port'.

    A port in the host and a different --port is an error; the port must be 1-65535; a path, query, user name
    or a scheme other than http is refused. Raises LabkitError (exit 2) naming --host or --port.
    """
    text = host.strip()
    if not text:
        raise _bad_address(host, "the robot address is empty")
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() != "http":
            raise _bad_address(host, f"the robot API speaks plain http, not {scheme}")
        text = rest
    if any(c in text for c in "/?#@ \t"):
        raise _bad_address(host, "a robot address has no path, query, user name or spaces")
    in_host: str | None = None
    if text.startswith("["):
        name, close, tail = text[1:].partition("]")
        if not close:
            raise _bad_address(host, "an IPv6 address in brackets needs its closing ']'")
        if tail:
            if not tail.startswith(":"):
                raise _bad_address(host, f"unexpected {tail!r} after the IPv6 address")
            in_host = tail[1:]
    elif text.count(":") == 1:
        name, _, in_host = text.partition(":")
    else:
        name = text
    if ":" in name:
        try:
            name = str(ipaddress.IPv6Address(name))
        except ValueError:
            raise _bad_address(host, f"{name!r} is not an IPv6 address (write [addr]:port)") from None
    elif not name or len(name) > 253 or not all(_HOST_LABEL.match(p) for p in name.rstrip(".").split(".")):
        raise _bad_address(host, f"{name!r} is not a host name or IP address")
    if in_host is not None:
        if not in_host.isdigit():
            raise _bad_address(host, f"the port must be a number, got {in_host!r}")
        if port is not None and port != int(in_host):
            raise LabkitError(f"--host says port {int(in_host)} but --port says {port}; give the port once",
                              field="--port")
        port = int(in_host)
    port = DEFAULT_PORT if port is None else port
    if not 1 <= port <= 65535:
        raise LabkitError(f"port {port} is not a TCP port; expected 1-65535 (the robot API listens on "
                          f"{DEFAULT_PORT})", field="--port")
    return name, port


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
    """Minimal JSON client for one robot (host, port), over httpx with timeouts and connection retries."""

    def __init__(self, host: str, port: int | None = None, timeout: float = 10.0):
        import httpx

        self.host, self.port = parse_address(host, port)
        self.timeout = timeout
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        self.where = f"{netloc}:{self.port}"
        self.base = f"http://{self.where}"
        # trust_env=False: a robot on the lab network is never reached through the environment's HTTP proxy
        self._client = httpx.Client(base_url=self.base, timeout=httpx.Timeout(timeout), trust_env=False,
                                    headers=dict(VERSION_HEADER, Accept="application/json"),
                                    transport=httpx.HTTPTransport(retries=CONNECT_RETRIES))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def request(self, method: str, path: str, *, json_body: dict | None = None,
                files: dict | None = None, what: str = "") -> tuple[int, dict]:
        """Send one request; return (status, JSON body); raise UploadError for transport and HTTP errors."""
        import httpx

        try:
            resp = self._client.request(method, path, json=json_body, files=files)
        except httpx.TimeoutException:
            raise UploadError(self._unreachable(f"no answer within {self.timeout:g} s")) from None
        except httpx.ConnectError as exc:
            text = str(exc).lower()
            if "refused" in text:
                why = "connection refused (is the robot on and is this its address?)"
            elif "name or service" in text or "nodename" in text or "getaddrinfo" in text or "resolution" in text:
                why = "unknown host name"
            else:
                why = str(exc) or type(exc).__name__
            raise UploadError(self._unreachable(why)) from None
        except httpx.HTTPError as exc:
            raise UploadError(self._unreachable(str(exc) or type(exc).__name__)) from None
        if resp.status_code >= 400:
            raise UploadError(f"the robot at {self.where} refused {what or method + ' ' + path} "
                              f"(HTTP {resp.status_code}): {_error_text(resp.content)}") from None
        try:
            return resp.status_code, resp.json() if resp.content else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise UploadError(f"{self.where} answered {path} with something that is not JSON; "
                              "is it an Opentrons robot?") from None

    def _unreachable(self, why: str) -> str:
        return f"cannot reach the robot at {self.where}: {why}"


def upload_protocol(path: str | Path, host: str, *, port: int | None = None, run: bool = False,
                    timeout: float = 300.0, poll: float = 1.0,
                    echo: Callable[[str], None] | None = None) -> UploadResult:
    """Upload a protocol, wait for the robot's analysis, create a run if asked; UploadError if any step fails."""
    p = Path(path)
    parse_address(host, port)  # bad input (exit 2) before anything else, and before any connection
    if not p.is_file():
        raise UploadError("no such protocol file", file=p)
    say = echo or (lambda _msg: None)
    client = RobotClient(host, port, timeout=min(max(timeout, 0.1), 30.0))
    try:
        return _upload(client, p, run=run, timeout=timeout, poll=poll, say=say)
    finally:
        client.close()


def _upload(client: RobotClient, p: Path, *, run: bool, timeout: float, poll: float,
            say: Callable[[str], None]) -> UploadResult:
    """The upload conversation on an open client."""
    ctype = "text/x-python" if p.suffix == ".py" else "application/json"
    status, doc = client.request("POST", "/protocols", files={"files": (p.name, p.read_bytes(), ctype)},
                                 what="the protocol")
    data = doc.get("data") or {}
    pid = str(data.get("id", ""))
    if not pid:
        raise UploadError(f"the robot at {client.where} accepted the upload but returned no protocol id")
    res = UploadResult(pid, robot_type=str(data.get("robotType", "")), created=status == 201)
    say(f"uploaded {p.name} to {client.where}: protocol id {pid}" + ("" if res.created else " (already there)"))

    from labkit.progress import bar

    start = time.monotonic()
    deadline = start + timeout
    analysis: dict = {}
    with bar(max(1, round(timeout)), desc="robot analysis", unit="s") as advance:  # seconds waited of --timeout
        waited = 0
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
            now = int(time.monotonic() - start)
            advance(now - waited)
            waited = now
    res.analysis_id = str(analysis.get("id", ""))
    res.status, res.result = "completed", str(analysis.get("result", ""))
    for e in analysis.get("errors") or []:
        res.errors.append(str(e.get("detail") or e.get("errorType") or e))
    if not res.ok:
        raise UploadError(f"the robot's analysis of protocol {pid} failed (result {res.result or '?'})",
                          file=p, problems=res.errors or [f"result: {res.result}"])
    say(f"robot analysis: ok ({len(analysis.get('commands') or [])} commands)")
    if run:
        _, doc = client.request("POST", "/runs", json_body={"data": {"protocolId": pid}}, what="the new run")
        res.run_id = str((doc.get("data") or {}).get("id", "")) or None
        say(f"run created: {res.run_id} (start it from the robot or the Opentrons App)")
    return res


@click.command("upload")
@click.argument("protocol", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", required=True, help="Robot IP address or host name, optionally with :PORT.")
@click.option("--port", default=None, type=int, help=f"Robot HTTP API port  [default: {DEFAULT_PORT}]")
@click.option("--run", "create_run", is_flag=True, help="Also create a run of the protocol (not started).")
@click.option("--timeout", default=300.0, show_default=True, type=float,
              help="Seconds to wait for the robot's analysis.")
@json_option
def upload(protocol: Path, host: str, port: int | None, create_run: bool, timeout: float, as_json: bool) -> int:
    """Send PROTOCOL to an Opentrons robot, wait for its analysis and print the result and the protocol id.

    Exit 0 when the robot analyzed the protocol without errors, 1 when the robot cannot be reached, refuses the
    protocol or its analysis fails.

    \b
    Example:
      labkit upload protocols/kinase_panel_flex.py --host 192.168.1.42
      labkit upload protocols/viability_km12_ot2.py --host ot2.local --run
    """
    out = ui()
    res = upload_protocol(protocol, host, port=port, run=create_run, timeout=timeout, echo=out.say)
    out.result(f"protocol id: {res.protocol_id}")
    if res.run_id:
        out.result(f"run id: {res.run_id}")
    if out.json:
        out.emit({"ok": res.ok, "protocol": protocol, "host": host, "protocol_id": res.protocol_id,
                  "analysis_id": res.analysis_id, "status": res.status, "result": res.result, "errors": res.errors,
                  "robot_type": res.robot_type, "run_id": res.run_id, "created": res.created})
    return 0
