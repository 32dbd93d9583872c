"""`opsbook report --format html` / `opsbook run --html`: one self-contained page, rendered by a real headless
Chromium (the Debian package scripts/bootstrap.sh installs) and checked in its screenshot and DOM."""

import html
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import pytest
from history_data import STARTED, after, before, finding, result
from test_run_history import invoke, record

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import make_action
from opsbook.html_report import render_html, timeline_steps, trend_series
from opsbook.schema import report_errors

EVIL_TARGET = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
EVIL_MESSAGE = "lag of group <b>billing</b> & co 'quoted' \"twice\""


def lag_report(lag=4200.0, verified=120.0, started=STARTED) -> dict:
    """A kafka-consumer-lag run: lag critical, consumers scaled, lag verified lower; a timeline of four tasks."""
    run = result([
        finding("kafka_consumer_lag", "critical", EVIL_MESSAGE, host="kafka-1", value=lag, unit="messages",
                target=EVIL_TARGET, threshold={"warn": 1000, "crit": 2000, "direction": "above"}),
        finding("kafka_broker_reachable", "ok", "3 brokers answered", host="kafka-1", value=3, unit="brokers",
                target="127.0.0.1:9092"),
        finding("kafka_dlq_messages", "warning", "12 messages in the DLQ", host="kafka-1", value=12, unit="messages",
                target="billing.events.dlq", threshold={"warn": 1, "crit": 100, "direction": "above"}),
        finding("kafka_consumer_state", "ok", "every consumer is Stable", host="kafka-1", target="billing-service-group",
                state="running", threshold={"expected": "running"}),
        finding("kafka_consumer_lag", "ok", "lag fell", host="kafka-1", value=verified, unit="messages",
                target=EVIL_TARGET, phase="verify", threshold={"warn": 1000, "crit": 2000, "direction": "above"}),
        finding("redis_not_here", "unknown", "no Redis in the inventory", host="kafka-1", state="not_configured"),
    ], actions=[dict(make_action("scale", "billing/consumer", True, False, "2 -> 4 replicas"), host="kafka-1")],
        started=started, scenario="kafka-consumer-lag", remediate=True)
    report = run.as_dict()
    report["timeline"] = [
        {"time": "2026-01-02T03:04:05.400Z", "host": "kafka-1", "task": "Measure the lag", "result": "ok",
         "phase": "diagnose"},
        {"time": "2026-01-02T03:04:06.100Z", "host": "kafka-1", "task": "Check the DLQ <dlq>", "result": "ok",
         "phase": "diagnose"},
        {"time": "2026-01-02T03:04:07.000Z", "host": "kafka-1", "task": "Scale the consumers", "result": "changed",
         "phase": "remediate"},
        {"time": "2026-01-02T03:04:07.500Z", "host": "kafka-1", "task": "Watch the recovery", "result": "failed",
         "phase": "verify"},
    ]
    return report


class _Refs(HTMLParser):
    """Every src/href/xlink:href/action attribute and every tag of a page."""

    def __init__(self):
        super().__init__()
        self.refs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ("src", "href", "xlink:href", "action", "srcset", "poster") and v]


def parsed(page: str) -> _Refs:
    refs = _Refs()
    refs.feed(page)
    return refs


def test_the_fixture_is_a_valid_report():
    assert report_errors(lag_report()) == []


def test_the_page_has_banner_sections_findings_and_escapes_every_string():
    page = render_html(lag_report(), "20260102T030405Z-kafka-consumer-lag-abc123",
                       ["opsbook", "run", "kafka-consumer-lag", "--remediate", "-e", "pw=********"])
    assert page.startswith("<!DOCTYPE html>\n")
    assert '<header class="banner" id="outcome" style="background:#2e7d32"><h1>RESOLVED: kafka-consumer-lag</h1>' in page
    assert "outcome <b>resolved</b> (diagnosis critical, now ok) - exit code <b>0</b>" in page
    assert "<code>opsbook run kafka-consumer-lag --remediate -e pw=********</code>" in page
    assert "<code>/srv/inventories/prod</code>" in page and "2026-01-02T03:04:05Z, duration 2.5 s, remediation allowed" in page
    for section in ('id="diagnose"', 'id="remediate"', 'id="verify"', 'id="not-checked"', 'id="trends"', 'id="timeline"'):
        assert section in page
    assert "<h2>Diagnosis (2 ok, 1 warning, 1 critical)</h2>" in page and "<h2>Remediation</h2>" in page
    assert "<b>done</b> kafka-1: scale <code>billing/consumer</code>: 2 -&gt; 4 replicas" in page
    # the diagnosis' rows: status, host, check, target, value, unit, threshold, phase, message - worst first
    rows = re.findall(r'<tr class="finding">(.*?)</tr>', page)
    assert len(rows) == 5
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0])]
    assert cells == ["CRITICAL", "kafka-1", "kafka_consumer_lag", html.escape(EVIL_TARGET), "4200", "messages",
                     "warn 1000, crit 2000 (above)", "diagnose", html.escape(EVIL_MESSAGE)]
    assert re.sub(r"<[^>]+>", "", rows[-1]).startswith("OKkafka-1kafka_consumer_lag")  # the verification's row
    assert "<td class=\"num\">running</td>" in page and "expected running" in page
    # nothing from the report became markup: no script, no img, no event handler
    assert EVIL_TARGET not in page and "<b>billing</b>" not in page and "<dlq>" not in page
    tags = set(parsed(page).tags)
    assert not tags & {"script", "img", "iframe", "link", "object", "embed"}
    assert tags >= {"svg", "polyline", "rect", "table", "style"}


def test_the_page_fetches_nothing():
    page = render_html(lag_report(), history=[lag_report(lag=900.0, started=STARTED - 3600)])
    assert parsed(page).refs == []
    assert "@import" not in page and "url(" not in page
    # the only http(s) text is the SVG namespace, an attribute no browser fetches
    assert set(re.findall(r"https?://[^\"' <>]*", page)) == {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("run, colour, words", [
    (before(), "#f9a825", "outcome <b>action_needed</b> (status critical) - exit code <b>2</b>"),
    (result(before().findings, failures=[{"host": "redis-1", "task": "Check <Redis>", "message": "boom & bust"}]),
     "#c62828", "outcome <b>run_failed</b> (the run itself failed) - exit code <b>4</b>"),
    (result([]), "#8e24aa", "outcome <b>not_checked</b> (status unknown) - exit code <b>3</b>"),
])
def test_the_banner_follows_the_outcome(run, colour, words):
    page = render_html(run.as_dict())
    assert f'style="background:{colour}"' in page and words in page
    if run.failures:
        assert "<li>Check &lt;Redis&gt; on redis-1: boom &amp; bust</li>" in page
    if not run.findings:
        assert "<p>No check gave a verdict.</p>" in page and 'id="trends"' not in page and 'id="timeline"' not in page


def test_timeline_bars_run_from_the_hosts_previous_result():
    steps = timeline_steps(lag_report())
    assert [(s["name"], s["status"], round(s["duration"], 3)) for s in steps] == [
        ("Measure the lag", "ok", 0.4), ("Check the DLQ <dlq>", "ok", 0.7), ("Scale the consumers", "changed", 0.9),
        ("Watch the recovery", "failed", 0.5)]
    assert steps[0]["started"] == STARTED
    assert [s["phase"] for s in steps] == ["kafka-1 diagnose", "kafka-1 diagnose", "kafka-1 remediate", "kafka-1 verify"]
    page = render_html(lag_report())
    svg = page[page.index('<section id="timeline">'):]
    assert svg.count("<rect ") == 4 and 'fill="#1565c0"' in svg and 'fill="#c62828"' in svg
    assert "kafka-1 diagnose - Check the DLQ &lt;dlq&gt;" in svg and "kafka-1 verify - Watch the recovery" in svg
    # a report recorded before the timeline kept phases: the host alone
    old = dict(lag_report(), timeline=[{k: v for k, v in e.items() if k != "phase"} for e in lag_report()["timeline"]])
    assert [s["phase"] for s in timeline_steps(old)] == ["kafka-1"] * 4


def test_trends_over_the_run_and_the_scenarios_earlier_runs():
    history = [lag_report(lag=900.0, verified=50.0, started=STARTED - 7200),
               lag_report(lag=2500.0, verified=80.0, started=STARTED - 3600)]
    series = trend_series(lag_report(), history)
    assert [s["key"][1] for s in series] == ["kafka_dlq_messages", "kafka_broker_reachable", "kafka_consumer_lag"]
    lag = series[2]  # worst status now first: the DLQ still warns, the lag is verified ok
    assert lag["key"] == ("kafka-1", "kafka_consumer_lag", EVIL_TARGET) and lag["status"] == "ok"
    assert [v for _, v in lag["points"]] == [900.0, 50.0, 2500.0, 80.0, 4200.0, 120.0]
    assert lag["points"][-1][0] == "2026-01-02T03:04:05Z verify"
    # one run alone: only what it measured twice (the lag, diagnosed then verified)
    assert [s["key"][1] for s in trend_series(lag_report())] == ["kafka_consumer_lag"]
    page = render_html(lag_report(), history=history)
    trends = page[page.index('<section id="trends">'):page.index('<section id="timeline">')]
    assert trends.count("<polyline ") == 3 and trends.count('class="limit"') == 4  # lag and DLQ: warn and crit
    points = re.findall(r'<polyline [^>]*points="([^"]+)"', trends)[2].split()
    ys = [float(p.split(",")[1]) for p in points]
    assert len(ys) == 6 and ys[4] == min(ys)  # 4200, the highest lag, is drawn at the top


def test_report_format_html_from_the_history(tmp_path):
    record(tmp_path / "runs", before(), started=STARTED - 3600)
    run_id = record(tmp_path / "runs", after(), argv=("run", "redis-health", "--remediate", "-e", "redis_password=hunter2"))
    shown = invoke(tmp_path, "report", "last", "--format", "html")
    assert shown.return_value == 0
    page = shown.output
    assert f"<code>{run_id}</code>" in page and "RESOLVED: redis-health" in page
    assert "redis_password=********" in page and "hunter2" not in page
    # redis_memory: 96 in the earlier run, 97 then 41 in this one
    assert 'id="trends"' in page and "<title>2026-01-02T02:04:05Z: 96 %</title>" in page
    assert invoke(tmp_path, "report", run_id[:16], "-f", "md").output.startswith("# opsbook RESOLVED: redis-health\n")


# --- a real browser ---------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def png_pixels(data: bytes):
    """``(width, height, set of distinct RGB(A) pixels)`` of an 8-bit RGB/RGBA PNG (unfiltered by hand)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, colours = bytearray(stride), set()
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if row % 4 == 0:  # every 4th row is plenty to tell a page from a blank one
            colours.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp * 2))
        previous = line
    return width, height, colours


def chromium(*args, home):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={home}/profile",
                           "--no-first-run", "--disable-extensions", *args],
                          capture_output=True, text=not any(a.startswith("--screenshot") for a in args), timeout=120,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/bootstrap.sh installs Debian's chromium)")
def test_a_real_chromium_renders_the_page(tmp_path):
    report = lag_report()
    page = tmp_path / "report.html"
    page.write_text(render_html(report, "20260102T030405Z-kafka-consumer-lag-abc123", ["opsbook", "run", "x"],
                                history=[lag_report(lag=900.0, started=STARTED - 3600)]))
    shot = tmp_path / "shot.png"
    proc = chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", page.as_uri(), home=tmp_path)
    assert shot.exists(), proc.stderr
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    assert len(colours) > 20, f"a blank page: {len(colours)} colours"
    banner = bytes.fromhex("2e7d32")
    assert any(c[:3] == banner for c in colours), "no pixel of the green RESOLVED banner"

    dom = chromium("--dump-dom", page.as_uri(), home=tmp_path)
    assert dom.returncode == 0, dom.stderr
    text = dom.stdout
    assert "RESOLVED: kafka-consumer-lag" in text and "exit code <b>0</b>" in text
    for f in report["findings"]:
        assert f["check"] in text
        if f.get("target"):
            # the browser made text of the target, not elements: it serialises it escaped again
            assert html.escape(f["target"], quote=False) in text
    assert "<script" not in text and "<img" not in text
    assert text.count("<polyline") == 3 and "<svg" in text  # lag, DLQ, brokers


def test_a_dr_rehearsals_rto_and_rpo_over_its_rehearsals_and_a_long_timeline_cut():
    def rehearsal(rto, rpo, started):
        run = result([finding("dr_rto", "ok", f"achieved RTO is {rto} s", host="lab", value=rto, unit="s",
                              target="dr-rehearsal", threshold={"warn": None, "crit": 14400, "direction": "above"}),
                      finding("dr_rpo", "ok", f"achieved RPO is {rpo} s", host="lab", value=rpo, unit="s",
                              target="dr-rehearsal", threshold={"warn": None, "crit": 3600, "direction": "above"})],
                     started=started, scenario="dr-rehearsal")
        return run.as_dict()

    reports = [rehearsal(40.0 + i, 3.0 * i, STARTED + 86400 * i) for i in range(3)]
    series = trend_series(reports[-1], reports[:-1])
    assert [(s["key"][1], [v for _, v in s["points"]]) for s in series] == [
        ("dr_rpo", [0.0, 3.0, 6.0]), ("dr_rto", [40.0, 41.0, 42.0])]
    long = dict(reports[-1], timeline=[{"time": "2026-01-04T03:04:06Z", "host": "lab", "task": f"t{i}", "result": "ok"}
                                       for i in range(250)])
    page = render_html(long, history=reports[:-1])
    assert "<h2>Timeline (the first 200 of 250 task results)</h2>" in page
    assert page[page.index('<section id="timeline">'):].count("<rect ") == 200
    assert page.count('class="limit"') == 2  # crit only: no warn limit drawn
