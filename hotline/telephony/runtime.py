"""Starting the telephony processes: Kamailio (registrar/proxy) and one pjsua2 media node, on 127.0.0.1.

Used by `manage.py run_telephony` (the README's run command starts it when the binaries are installed) and by
the end-to-end tests. Every process is started here and stopped here by its own PID.
"""

from __future__ import annotations

import glob
import importlib.util
import math
import os
import re
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
loadmodule "dispatcher.so"
loadmodule "db_text.so"
# Registrations are kept in text files under the run directory (written when Kamailio stops, read when it starts):
# a restart does not make the phones unreachable until they register again.
modparam("usrloc", "db_url", "text://{db_dir}")
modparam("usrloc", "db_mode", 1)
modparam("rr", "enable_full_lr", 1)
modparam("tm", "fr_timer", 6000)
modparam("tm", "fr_inv_timer", 60000)
# The hotline numbers go to the media nodes (set 1) round-robin; a node that stops answering is marked inactive
# (by the failed call and by OPTIONS probing) and the call is tried on the next one.
modparam("dispatcher", "list_file", "{ds_list}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_interval", 2)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_reply_codes", "class=2;class=4")
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
    if (is_method("INVITE") && $rU =~ "{numbers_re}") {{
        if (!ds_select_dst("1", "4")) {{ sl_send_reply("503", "No media node"); exit; }}
        t_on_failure("MEDIA_FAILOVER");
        route(RELAY);
    }}
    if (!lookup("location")) {{ t_reply("404", "Not Found"); exit; }}
    route(RELAY);
}}
route[RELAY] {{ if (!t_relay()) sl_reply_error(); exit; }}
failure_route[MEDIA_FAILOVER] {{
    if (t_is_canceled()) exit;
    if (t_check_status("408|5[0-9][0-9]") || t_branch_timeout()) {{
        ds_mark_dst("ip");
        if (ds_next_dst()) {{ t_on_failure("MEDIA_FAILOVER"); t_relay(); exit; }}
    }}
    # A node holding all the legs it can (486 Busy Here) stays active; the call is tried on the next node.
    if (t_check_status("486") && ds_next_dst()) {{ t_on_failure("MEDIA_FAILOVER"); t_relay(); exit; }}
}}
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


LOCATION_TABLE = (
    "id(int,auto) ruid(string) username(string) domain(string,null) contact(string) received(string,null) "
    "path(string,null) expires(int) q(double) callid(string) cseq(int) last_modified(int) flags(int) cflags(int) "
    "user_agent(string) socket(string,null) methods(int,null) instance(string,null) reg_id(int) server_id(int) "
    "connection_id(int) keepalive(int) partition(int) \n"
)


def write_location_tables(db_dir: Path) -> None:
    """The db_text tables usrloc keeps registrations in (schema 9, as Kamailio 5.6 ships it); existing rows kept."""
    db_dir.mkdir(parents=True, exist_ok=True)
    (db_dir / "version").write_text("id(int,auto) table_name(string) table_version(int) \n0:location:9\n")
    location = db_dir / "location"
    if not location.exists():
        location.write_text(LOCATION_TABLE)


@dataclass
class Stack:
    """Kamailio and `nodes` media nodes. Ports: SIP proxy `sip_port`; node i (0-based) SIP `node_sip_port + 4i`,
    control `ctl_port + 4i`, RTP from `rtp_port + rtp_span * i` (`rtp_span` ports, default 400). Kamailio's `dispatcher` spreads the hotline
    numbers over the nodes and fails over when one stops answering."""

    work_dir: Path
    sip_port: int = 15060
    node_sip_port: int = 15070
    ctl_port: int = 15071
    rtp_port: int = 16000
    numbers: list[str] = field(default_factory=lambda: ["12345"])
    nodes: int = 1
    kamailio_shm_mb: int = 64
    rtp_span: int = 400  # RTP ports per node
    # Extra environment of some nodes (by name): a benchmark runs two node settings side by side.
    node_env: dict[str, dict[str, str]] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def prompts(self) -> Path:
        return self.work_dir / "prompts"

    @property
    def registrar(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    @property
    def node_name(self) -> str:
        return "node1"

    def node_names(self) -> list[str]:
        return [f"node{i + 1}" for i in range(self.nodes)]

    def node_ctl_port(self, name: str) -> int:
        return self.ctl_port + 4 * self.node_names().index(name)

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        ensure_prompts(self.prompts)
        ds_list = self.work_dir / "dispatcher.list"
        ds_list.write_text(
            "".join(f"1 sip:127.0.0.1:{self.node_sip_port + 4 * i}\n" for i in range(self.nodes))
        )
        numbers_re = "^(" + "|".join(re.escape(n) for n in self.numbers) + ")$"
        db_dir = self.work_dir / "registrations"
        write_location_tables(db_dir)
        cfg = self.work_dir / "kamailio.cfg"
        cfg.write_text(
            KAMAILIO_CFG.format(
                sip_port=self.sip_port,
                mpath=kamailio_modules(),
                ds_list=ds_list,
                numbers_re=numbers_re,
                db_dir=db_dir,
            )
        )
        self.start_kamailio()
        for name in self.node_names():
            self.start_node(name)

    def start_kamailio(self) -> None:
        cfg = self.work_dir / "kamailio.cfg"
        with open(self.work_dir / "kamailio.log", "ab") as log:  # the child keeps its own descriptor
            self.procs["kamailio"] = subprocess.Popen(
                ["kamailio", "-DD", "-E", "-f", str(cfg), "-m", str(self.kamailio_shm_mb), "-M", "8"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if not wait_udp_port_bound(self.sip_port, 10):
            self.stop()
            raise RuntimeError(f"kamailio did not start, see {self.work_dir / 'kamailio.log'}")

    def restart_kamailio(self) -> None:
        """Kamailio restarted (as `systemctl restart` does: stopped, started again). Calls in progress keep their
        media (RTP flows between the phones and the media nodes, not through the proxy) and their in-dialog
        requests (routed by the Record-Route set, which needs no state); registrations are read back."""
        proc = self.procs.pop("kamailio", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        # The old sockets must be released before the new process binds them.
        end = time.monotonic() + 10
        while wait_udp_port_bound(self.sip_port, 0.05) and time.monotonic() < end:
            time.sleep(0.05)
        self.start_kamailio()

    def start_node(self, name: str) -> None:
        i = self.node_names().index(name)
        cmd = [
            sys.executable,
            "-m",
            "hotline.telephony.medianode",
            "--name",
            name,
            "--sip-port",
            str(self.node_sip_port + 4 * i),
            "--ctl-port",
            str(self.ctl_port + 4 * i),
            "--registrar",
            self.registrar,
            "--prompts",
            str(self.prompts),
            "--rtp-port",
            str(self.rtp_port + self.rtp_span * i),
            "--rtp-range",
            str(self.rtp_span),
        ]
        for number in self.numbers:
            cmd += ["--aor", number]
        with open(self.work_dir / f"{name}.log", "ab") as node_log:
            extra = self.node_env.get(name)
            self.procs[name] = subprocess.Popen(
                cmd,
                stdout=node_log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=os.getcwd(),
                env={**os.environ, **extra} if extra else None,
            )

    def kill_node(self, name: str) -> None:
        """A media node dies (SIGKILL, no goodbye): the fault the platform must survive."""
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def stop(self) -> None:
        """Media nodes first (they release their calls), then the proxy; each by its own PID."""
        for name in [*self.node_names(), "kamailio"]:
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
