"""labkit.upload against a local fake robot (http.server on 127.0.0.1) that checks requests like the robot does.

The fake robot analyses uploads with the real Opentrons engine (in-process), refuses files the robot's protocol
reader would refuse (422 ProtocolFilesInvalid) and protocols for the other robot type (422
ProtocolRobotTypeMismatch), answers the first analysis poll with `pending`, and creates runs.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import SimulationError, UploadError
from labkit.simulate.opentrons_run import analyze_protocol
from labkit.upload import upload_protocol

DATA = Path(__file__).parent / "data" / "simulate"


class FakeRobot:
    """A robot server with in-memory protocols and runs."""

    def __init__(self, robot_type: str = "OT-2 Standard", tmp: Path | None = None):
        self.robot_type, self.tmp = robot_type, tmp
        self.protocols: dict[str, dict] = {}
        self.polls: dict[str, int] = {}
        self.runs: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def reply(self, status: int, doc: dict) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Opentrons-Version", "4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def error(self, status: int, eid: str, title: str, detail: str) -> None:
                self.reply(status, {"errors": [{"id": eid, "title": title, "detail": detail}]})

            def checked(self) -> bool:
                robot.requests.append((self.command, self.path))
                if "Opentrons-Version" not in self.headers:
                    self.error(422, "InvalidRequest", "Invalid Request", "field required: header Opentrons-Version")
                    return False
                return True

            def do_POST(self):
                if not self.checked():
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/protocols":
                    robot.create_protocol(self, body)
                elif self.path == "/runs":
                    pid = json.loads(body)["data"]["protocolId"]
                    if pid not in robot.protocols:
                        return self.error(404, "ProtocolNotFound", "Protocol Not Found", pid)
                    run = {"id": f"run-{len(robot.runs) + 1}", "protocolId": pid, "status": "idle", "current": True}
                    robot.runs.append(run)
                    self.reply(201, {"data": run})
                else:
                    self.error(404, "RouteNotFound", "Route Not Found", self.path)

            def do_GET(self):
                if not self.checked():
                    return
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "protocols" and parts[2] == "analyses":
                    pid = parts[1]
                    if pid not in robot.protocols:
                        return self.error(404, "ProtocolNotFound", "Protocol Not Found", pid)
                    robot.polls[pid] = robot.polls.get(pid, 0) + 1
                    a = robot.protocols[pid]["analysis"]
                    item = ({"id": "analysis-1", "status": "pending", "runTimeParameters": []}
                            if robot.polls[pid] == 1 else a)
                    self.reply(200, {"data": [item], "meta": {"cursor": 0, "totalLength": 1}})
                else:
                    self.error(404, "RouteNotFound", "Route Not Found", self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def create_protocol(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        ctype = h.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            return h.error(422, "InvalidRequest", "Invalid Request", "expected multipart/form-data")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        files = [p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "files"]
        if not files or not (files[0].get_filename() or "").endswith(".py"):
            return h.error(422, "InvalidRequest", "Invalid Request", "field required: files (a .py protocol)")
        name, content = files[0].get_filename(), files[0].get_payload(decode=True)
        path = self.tmp / f"upload-{len(self.protocols)}-{name}"
        path.write_bytes(content)
        try:
            analysis = analyze_protocol(path, check=False, in_process=True)
        except SimulationError as exc:
            return h.error(422, "ProtocolFilesInvalid", "Protocol File(s) Invalid", exc.message)
        if analysis["robotType"] != self.robot_type:
            return h.error(422, "ProtocolRobotTypeMismatch", "Protocol For Different Robot Type",
                           "This protocol is for another robot type. It can't be analyzed or run on this robot.")
        pid = f"proto-{len(self.protocols) + 1}"
        completed = {"id": "analysis-1", "status": "completed", "result": analysis["result"],
                     "robotType": analysis["robotType"], "commands": analysis["commands"],
                     "errors": analysis["errors"], "labware": analysis["labware"],
                     "pipettes": analysis["pipettes"], "liquids": analysis["liquids"]}
        self.protocols[pid] = {"name": name, "analysis": completed}
        h.reply(201, {"data": {"id": pid, "protocolType": "python", "robotType": self.robot_type,
                               "files": [{"name": name, "role": "main"}], "metadata": analysis["metadata"],
                               "analysisSummaries": [{"id": "analysis-1", "status": "pending"}]}})

    def __enter__(self) -> "FakeRobot":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_upload_waits_for_analysis_and_creates_run(tmp_path):
    said = []
    with FakeRobot("OT-2 Standard", tmp_path) as robot:
        res = upload_protocol(DATA / "ot2_dilution.py", "127.0.0.1", port=robot.port, run=True, poll=0.01,
                              echo=said.append)
    assert res.ok and res.protocol_id == "proto-1" and res.run_id == "run-1" and res.result == "ok"
    assert robot.polls["proto-1"] == 2  # pending, then completed
    assert robot.runs[0]["protocolId"] == "proto-1"
    assert robot.requests == [("POST", "/protocols"), ("GET", "/protocols/proto-1/analyses"),
                              ("GET", "/protocols/proto-1/analyses"), ("POST", "/runs")]
    assert said[0] == "uploaded ot2_dilution.py to 127.0.0.1:%d: protocol id proto-1" % robot.port


def test_refused_protocol_carries_the_robots_detail(tmp_path):
    with FakeRobot("OT-3 Standard", tmp_path) as robot:
        with pytest.raises(UploadError) as info:
            upload_protocol(DATA / "ot2_dilution.py", "127.0.0.1", port=robot.port, poll=0.01)
        assert "HTTP 422" in str(info.value) and "Different Robot Type" in str(info.value)
        bad = tmp_path / "no_api_level.py"
        bad.write_text("def run(ctx):\n    pass\n")
        with pytest.raises(UploadError, match="apiLevel not declared"):
            upload_protocol(bad, "127.0.0.1", port=robot.port, poll=0.01)


def test_failed_analysis_lists_errors(tmp_path):
    bad = tmp_path / "too_much.py"
    bad.write_text('requirements = {"robotType": "OT-2", "apiLevel": "2.20"}\n'
                   "def run(ctx):\n"
                   "    tips = ctx.load_labware('opentrons_96_tiprack_300ul', 1)\n"
                   "    plate = ctx.load_labware('corning_96_wellplate_360ul_flat', 2)\n"
                   "    p = ctx.load_instrument('p300_single_gen2', 'right', tip_racks=[tips])\n"
                   "    p.pick_up_tip()\n"
                   "    p.pick_up_tip()\n")
    with FakeRobot("OT-2 Standard", tmp_path) as robot:
        with pytest.raises(UploadError) as info:
            upload_protocol(bad, "127.0.0.1", port=robot.port, poll=0.01)
    err = info.value
    assert "proto-1" in err.message and "not-ok" in err.message
    assert err.problems and "line 7" in err.problems[0]
    assert err.exit_code == 1


def test_unreachable_robot(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(UploadError, match="connection refused"):
        upload_protocol(DATA / "ot2_dilution.py", "127.0.0.1", port=port)
    silent = socket.socket()  # accepts connections (backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        with pytest.raises(UploadError, match="no answer within"):
            upload_protocol(DATA / "ot2_dilution.py", "127.0.0.1", port=silent.getsockname()[1], timeout=0.5)
    finally:
        silent.close()


def test_upload_cli(tmp_path, capsys):
    with FakeRobot("OT-3 Standard", tmp_path) as robot:
        with pytest.raises(SystemExit) as info:
            main(["upload", str(DATA / "flex_kinase_mini.py"), "--host", "127.0.0.1", "--port", str(robot.port)])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "robot analysis: ok" in out and "protocol id: proto-1" in out
        with pytest.raises(SystemExit) as info:
            main(["upload", str(DATA / "flex_kinase_mini.py"), "--host", "127.0.0.1", "--port", str(robot.port),
                  "--run", "--json"])
        assert info.value.code == 0
        doc = json.loads(capsys.readouterr().out)  # the whole stdout is the document
        assert doc["ok"] is True and doc["protocol_id"].startswith("proto-") and doc["result"] == "ok"
        assert doc["run_id"] and doc["robot_type"] == "OT-3 Standard"
        with pytest.raises(SystemExit) as info:
            main(["upload", str(DATA / "ot2_dilution.py"), "--host", "127.0.0.1", "--port", str(robot.port),
                  "--json"])
        assert info.value.code == 1
        cap = capsys.readouterr()
        assert "Different Robot Type" in cap.err
        err = json.loads(cap.out)["error"]
        assert err["type"] == "UploadError" and err["exit_code"] == 1
        assert "Different Robot Type" in " ".join([err["message"], *err["problems"]])
    with pytest.raises(SystemExit) as info:
        main(["upload", str(tmp_path / "missing.py"), "--host", "127.0.0.1"])
    assert info.value.code == 2


@pytest.mark.parametrize("host, port, expected", [
    ("127.0.0.1/robot", None, "no path"),
    ("", None, "empty"),
    ("   ", None, "empty"),
    ("[::1", None, "closing ']'"),
    ("127.0.0.1", 70000, "not a TCP port"),
    ("127.0.0.1", 0, "not a TCP port"),
    ("127.0.0.1:99999", None, "not a TCP port"),
    ("127.0.0.1:abc", None, "must be a number"),
    ("127.0.0.1:31950:31950", None, "not an IPv6 address"),
    ("https://127.0.0.1", None, "plain http"),
    ("http://127.0.0.1/protocols", None, "no path"),
    ("user@127.0.0.1", None, "user name"),
    ("bad_host!", None, "not a host name"),
    ("-robot.local", None, "not a host name"),
    ("127.0.0.1:5000", 6000, "give the port once"),
])
def test_bad_addresses_are_refused_before_any_connection(host, port, expected, tmp_path, capsys):
    with FakeRobot("OT-2 Standard", tmp_path) as robot:
        args = ["upload", str(DATA / "ot2_dilution.py"), "--host", host.replace("PORT", str(robot.port))]
        if port is not None:
            args += ["--port", str(port)]
        with pytest.raises(SystemExit) as info:
            main(args)
        err = capsys.readouterr().err
        assert info.value.code == 2 and expected in err and ("--host" in err or "--port" in err), err
        assert "Traceback" not in err
        assert robot.requests == []


def test_a_path_after_the_port_never_reaches_the_robot(tmp_path, capsys):
    with FakeRobot("OT-2 Standard", tmp_path) as robot:
        with pytest.raises(SystemExit) as info:
            main(["upload", str(DATA / "ot2_dilution.py"), "--host", f"127.0.0.1:{robot.port}/robot"])
        assert info.value.code == 2 and robot.requests == []


@pytest.mark.parametrize("form", ["127.0.0.1:{port}", "http://127.0.0.1:{port}", "localhost:{port}"])
def test_host_with_port_means_that_port(form, tmp_path):
    from labkit.upload import parse_address

    assert parse_address("127.0.0.1:31950") == ("127.0.0.1", 31950)
    assert parse_address("[::1]:8080") == ("::1", 8080)
    assert parse_address("ot2.local") == ("ot2.local", 31950)
    with FakeRobot("OT-2 Standard", tmp_path) as robot:
        res = upload_protocol(DATA / "ot2_dilution.py", form.format(port=robot.port), poll=0.01)
    assert res.ok and robot.requests[0] == ("POST", "/protocols")
