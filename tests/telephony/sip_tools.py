"""Real SIP parties for the telephony tests, all on 127.0.0.1: baresip phones remote-controlled over ctrl_tcp
(netstring JSON) as agents, SIPp as citizens. Every process is started here and stopped by its own PID."""

from __future__ import annotations

import json
import math
import queue
import shutil
import socket
import struct
import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
NEEDED = ("kamailio", "sipp", "baresip")


def missing() -> list[str]:
    from hotline.telephony.runtime import missing_binaries

    return sorted(set(missing_binaries()) | {b for b in NEEDED if shutil.which(b) is None})


def tone(path: Path, freq: float, seconds: float = 30.0) -> None:
    rate = 8000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(5000 * math.sin(2 * math.pi * freq * i / rate)))
                for i in range(int(rate * seconds))
            )
        )


class Baresip:
    """One baresip phone registered at the proxy as `user`, answering only when told (answermode=manual)."""

    def __init__(
        self, *, user: str, work: Path, registrar: str, sip_port: int, ctrl_port: int, rtp: int, freq: float
    ):
        self.user, self.dir = user, work / f"ua{user}"
        self.dir.mkdir(parents=True, exist_ok=True)
        tone(self.dir / "tone.wav", freq)
        (self.dir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{sip_port}",
                    "net_interface 127.0.0.1",
                    "audio_player aubridge,null",
                    f"audio_source aufile,{self.dir / 'tone.wav'}",
                    "audio_alert aubridge,alert",
                    "ausrc_srate 8000",
                    "auplay_srate 8000",
                    "ausrc_channels 1",
                    "auplay_channels 1",
                    f"rtp_ports {rtp}-{rtp + 99}",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aubridge.so",
                    "module aufile.so",
                    "module_tmp uuid.so",
                    "module_tmp account.so",
                    "module_app ctrl_tcp.so",
                    "module_app menu.so",
                    f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
                    "",
                ]
            )
        )
        (self.dir / "accounts").write_text(
            f"<sip:{user}@{registrar}>;regint=300;answermode=manual;audio_codecs=PCMU,PCMA\n"
        )
        (self.dir / "contacts").write_text("")
        with open(self.dir / "baresip.log", "wb") as out:
            self.proc = subprocess.Popen(
                ["baresip", "-f", str(self.dir)],
                cwd=self.dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.responses: queue.Queue[dict[str, Any]] = queue.Queue()
        self.n = 0
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", ctrl_port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(None)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b":" in buf:
                length, rest = buf.split(b":", 1)
                n = int(length)
                if len(rest) < n + 1:
                    break
                msg = json.loads(rest[:n])
                buf = rest[n + 1 :]
                (self.events if msg.get("event") else self.responses).put(msg)

    def cmd(self, command: str, params: str | None = None, timeout: float = 5) -> dict[str, Any]:
        self.n += 1
        msg: dict[str, Any] = {"command": command, "token": str(self.n)}
        if params is not None:
            msg["params"] = params
        body = json.dumps(msg).encode()
        self.sock.sendall(b"%d:%s," % (len(body), body))
        return self.responses.get(timeout=timeout)

    def registered(self) -> bool:
        return "OK" in str(self.cmd("reginfo").get("data", ""))

    def next_event(self) -> dict[str, Any] | None:
        try:
            return self.events.get_nowait()
        except queue.Empty:
            return None

    def stop(self) -> None:
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=3)


def dtmf_pcap(work: Path, key: str, index: int, *, payload_type: int | None = None) -> str:
    """A copy of SIPp's RFC 2833 pcap for `key` renumbered as press number `index` (RTP sequence numbers and
    timestamps moved past the previous presses: SIPp replays a pcap as it is, and the media node's RTP session
    drops a second press of the same key as a replay of the first), optionally with another payload type."""
    names = {"*": "star", "#": "pound"}
    source = Path("/usr/share/sip-tester") / f"dtmf_2833_{names.get(key, key)}.pcap"
    data = bytearray(source.read_bytes())
    link = struct.unpack_from("<I", data, 20)[0]
    link_len = {1: 14, 113: 16, 0: 4}.get(link, 14)
    pos, n, first_ts = 24, 0, None
    while pos + 16 <= len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        packet = pos + 16
        ip = packet + link_len
        if data[ip] >> 4 == 4 and data[ip + 9] == 17:  # IPv4, UDP
            rtp = ip + (data[ip] & 0x0F) * 4 + 8
            ts = struct.unpack_from(">I", data, rtp + 4)[0]
            first_ts = ts if first_ts is None else first_ts
            struct.pack_into(">H", data, rtp + 2, (1000 + 200 * index + n) & 0xFFFF)
            struct.pack_into(">I", data, rtp + 4, (16000 * (index + 1) + ts - first_ts) & 0xFFFFFFFF)
            if payload_type is not None:
                data[rtp + 1] = (data[rtp + 1] & 0x80) | payload_type
            n += 1
        pos = packet + incl
    name = f"dtmf_{index}_{names.get(key, key)}{'' if payload_type is None else f'_pt{payload_type}'}.pcap"
    (work / name).write_bytes(bytes(data))
    return name


def sipp_citizen(
    *,
    work: Path,
    proxy: str,
    number: str,
    caller: str,
    sip_port: int,
    media_port: int,
    talk_ms: int = 0,
    script: str = "citizen.xml",
    keys: str = "1",
    keys_after_ms: int = 1000,
    timeout_s: int = 60,
):
    """Start one SIPp citizen call (returns the process; it exits 0 when the call went as scripted). `keys` are
    pressed (RFC 2833, SIPp's pcaps) `keys_after_ms` after the answer, 400 ms apart."""
    for pcap in Path("/usr/share/sip-tester").glob("*.pcap"):
        if not (work / pcap.name).exists():
            shutil.copy(pcap, work)
    scenario = f"citizen-{caller}.xml"
    names = {"*": "star", "#": "pound"}
    # One key: SIPp's own pcap; several: one pcap per press with its own timestamps (a repeated key counts).
    pcaps = (
        [f"dtmf_2833_{names.get(k, k)}.pcap" for k in keys]
        if len(keys) <= 1
        else [dtmf_pcap(work, k, i) for i, k in enumerate(keys)]
    )
    presses = "\n".join(
        f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop><pause milliseconds="400"/>'
        for pcap in pcaps
    )
    text = (HERE / "sipp" / script).read_text().replace("TALK_MS", str(talk_ms))
    text = text.replace("DTMF_DELAY_MS", str(keys_after_ms)).replace("DTMF_ACTIONS", presses)
    (work / scenario).write_text(text)
    (work / f"caller-{caller}.csv").write_text(f"SEQUENTIAL\n{caller};\n")
    return subprocess.Popen(
        [
            "sipp",
            "-sf",
            scenario,
            "-inf",
            f"caller-{caller}.csv",
            "-s",
            number,
            proxy,
            "-i",
            "127.0.0.1",
            "-p",
            str(sip_port),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(media_port),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            str(timeout_s),
            "-trace_err",
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def goertzel_share(samples: list[int], rate: int, freq: float) -> float:
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    return power / (sum(x * x for x in samples) * len(samples) / 2 + 1e-9)
