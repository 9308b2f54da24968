"""Starting the telephony processes: Kamailio (registrar/proxy) and one pjsua2 media node, on 127.0.0.1.

Used by `manage.py run_telephony` (the README's run command starts it when the binaries are installed) and by
the end-to-end tests. Every process is started here and stopped here by its own PID.
"""

from __future__ import annotations

import glob
import importlib.util
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

KAMAILIO_CFG = """#!KAMAILIO
debug=1
log_stderror=yes
fork=yes
children=2
auto_aliases=no
dns=no
rev_dns=no
listen=udp:127.0.0.1:{sip_port}
alias="127.0.0.1:{sip_port}"
mpath="{mpath}/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "sanity.so"
modparam("usrloc", "db_mode", 0)
modparam("rr", "enable_full_lr", 1)
modparam("tm", "fr_inv_timer", 60000)
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483","Too Many Hops"); exit; }}
    if (!sanity_check("17895", "7")) {{ exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ route(RELAY); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) route(RELAY); exit; }}
        sl_send_reply("404","Not here"); exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) route(RELAY); exit; }}
    t_check_trans();
    remove_hf("Route");
    if (is_method("INVITE|SUBSCRIBE|REFER")) record_route();
    if (is_method("REGISTER")) {{ if (!save("location")) sl_reply_error(); exit; }}
    if ($rU==$null) {{ sl_send_reply("484","Address Incomplete"); exit; }}
    if (!lookup("location")) {{ t_reply("404", "Not Found"); exit; }}
    route(RELAY);
}}
route[RELAY] {{ if (!t_relay()) sl_reply_error(); exit; }}
"""

PROMPT_TEXTS = {
    "welcome.wav": "您好，12345热线，正在为您转接人工。",
    "blacklist.wav": "您的号码暂时无法接入本热线。",
    "voicemail.wav": "坐席全忙，请留言。",
}


def missing_binaries() -> list[str]:
    """What the telephony stack needs and this machine lacks (empty: it can run)."""
    missing = [b for b in ("kamailio",) if shutil.which(b) is None]
    if importlib.util.find_spec("pjsua2") is None:
        missing.append("pjsua2 (PyPI pjsua2-python)")
    return missing


def kamailio_modules() -> str:
    found = glob.glob("/usr/lib/*/kamailio/modules/tm.so") + glob.glob("/usr/lib/kamailio/modules/tm.so")
    if not found:
        raise RuntimeError("kamailio modules not found")
    return os.path.dirname(found[0])


def _tone_wav(path: Path, seconds: float, notes: list[float]) -> None:
    """Music on hold without any tool: a slow arpeggio of sine notes, 8 kHz 16-bit mono."""
    rate, frames = 8000, bytearray()
    per = int(rate * seconds / len(notes))
    for freq in notes:
        for i in range(per):
            env = min(1.0, i / 400, (per - i) / 400)
            frames += struct.pack("<h", int(6000 * env * math.sin(2 * math.pi * freq * i / rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def ensure_prompts(prompts: Path) -> None:
    """Mandarin prompts by espeak-ng (offline TTS) resampled to 8 kHz by sox; music on hold synthesised."""
    prompts.mkdir(parents=True, exist_ok=True)
    if not (prompts / "hold.wav").exists():
        _tone_wav(prompts / "hold.wav", 4.0, [523.25, 659.25, 783.99, 659.25])
    for name, text in PROMPT_TEXTS.items():
        target = prompts / name
        if target.exists():
            continue
        raw = prompts / f"raw-{name}"
        if shutil.which("espeak-ng") and shutil.which("sox"):
            subprocess.run(["espeak-ng", "-v", "cmn", "-s", "190", "-w", str(raw), text], check=True)
            subprocess.run(
                ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target), "gain", "-3"], check=True
            )
            raw.unlink()
        else:  # no TTS on this machine: a short tone stands in so the flow still runs
            _tone_wav(target, 1.5, [440.0, 660.0])


def wait_udp_port_bound(port: int, timeout: float) -> bool:
    """True once something listens on 127.0.0.1:port (UDP): our bind then fails."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        finally:
            s.close()
        time.sleep(0.05)
    return False


@dataclass
class Stack:
    """Kamailio and one media node. Ports: SIP proxy `sip_port`, node SIP `node_sip_port`, node control
    `ctl_port`, node RTP from `rtp_port` (400 ports)."""

    work_dir: Path
    sip_port: int = 15060
    node_sip_port: int = 15070
    ctl_port: int = 15071
    rtp_port: int = 16000
    numbers: list[str] = field(default_factory=lambda: ["12345"])
    node_name: str = "node1"
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def prompts(self) -> Path:
        return self.work_dir / "prompts"

    @property
    def registrar(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        ensure_prompts(self.prompts)
        cfg = self.work_dir / "kamailio.cfg"
        cfg.write_text(KAMAILIO_CFG.format(sip_port=self.sip_port, mpath=kamailio_modules()))
        with open(self.work_dir / "kamailio.log", "wb") as log:  # the child keeps its own descriptor
            self.procs["kamailio"] = subprocess.Popen(
                ["kamailio", "-DD", "-E", "-f", str(cfg), "-m", "64", "-M", "8"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if not wait_udp_port_bound(self.sip_port, 10):
            self.stop()
            raise RuntimeError(f"kamailio did not start, see {self.work_dir / 'kamailio.log'}")
        cmd = [
            sys.executable,
            "-m",
            "hotline.telephony.medianode",
            "--name",
            self.node_name,
            "--sip-port",
            str(self.node_sip_port),
            "--ctl-port",
            str(self.ctl_port),
            "--registrar",
            self.registrar,
            "--prompts",
            str(self.prompts),
            "--rtp-port",
            str(self.rtp_port),
        ]
        for number in self.numbers:
            cmd += ["--aor", number]
        with open(self.work_dir / f"{self.node_name}.log", "wb") as node_log:
            self.procs["node"] = subprocess.Popen(
                cmd, stdout=node_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=os.getcwd()
            )

    def stop(self) -> None:
        """Media node first (it releases its calls), then the proxy; each by its own PID."""
        for name in ("node", "kamailio"):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
