"""What the benchmarks share: synthetic news pages, a site server in its own process, output."""

from __future__ import annotations

import html
import io
import json
import multiprocessing
import os
import queue
import random
import re
import resource
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Real labelled material beside the project (never copied into it): ../shared/eval/README.md.
EVAL = ROOT.parent / "shared" / "eval"
sys.path.insert(0, str(ROOT))  # run as `python benchmarks/x.py` from a checkout

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# A local site is polled as fast as it answers: politeness is a deliberate throttle, not a cost.
POLITENESS_OFF = {
    "NEWSMON_ALLOW_PRIVATE_HOSTS": "127.0.0.1/32",
    "NEWSMON_HOST_DELAY": "0",
    "NEWSMON_PER_HOST": "10",
    "NEWSMON_SNAPSHOT": "false",
}

TEMPLATE = ROOT / "samples/site/harbor-times/2025/01/aid-convoys-expand.html"
_BODY = re.compile(r'<div class="story-body">.*?</div>', re.S)


def emit(benchmark: str, **figures: object) -> None:
    """One JSON object per line: what `make bench` prints and the README quotes."""
    print(json.dumps({"benchmark": benchmark, **figures}), flush=True)


def paired_ms(
    ours: Callable[[bytes, str], object],
    bare: Callable[[bytes, str], object],
    pages: list[tuple[bytes, str]],
    rounds: int = 3,
) -> tuple[float, float]:
    """CPU ms a page on one core for each, page by page in turns, the best of `rounds` per
    page: a burst of load elsewhere on the machine then costs both, not one."""
    best = [[float("inf")] * len(pages), [float("inf")] * len(pages)]
    for _ in range(rounds):
        for number, (body, url) in enumerate(pages):
            for side, extract in enumerate((ours, bare)):
                started = time.process_time()
                extract(body, url)
                best[side][number] = min(best[side][number], time.process_time() - started)
    return round(sum(best[0]) / len(pages) * 1000, 2), round(sum(best[1]) / len(pages) * 1000, 2)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def vocabulary() -> list[str]:
    """Words of the seed corpus: synthetic text has the length and shape of real reporting."""
    words: list[str] = []
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        words += re.findall(r"[A-Za-z][A-Za-z'-]+", seed.read_text(encoding="utf-8"))
    return words


def article_text(rng: random.Random, words: list[str], paragraphs: int = 9) -> list[str]:
    """~9 paragraphs of 3-4 sentences: about 4 KB, unique enough to be no one's duplicate."""
    out = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(3, 4)):
            sentence = " ".join(rng.choice(words) for _ in range(rng.randint(12, 24)))
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
        out.append(" ".join(sentences))
    return out


def _phrase(rng: random.Random, words: list[str], n: int) -> str:
    return html.escape(" ".join(rng.choices(words, k=n)).capitalize())


def _chrome(rng: random.Random, words: list[str]) -> tuple[str, str, str]:
    """What surrounds the story on a real news page: a mega menu, story cards, a long footer.

    Sized on front pages of large news sites: 100-200 KB of HTML, a DOM of a few
    thousand nodes, so extraction costs what it costs on real pages.
    """
    menu = "".join(
        f'<li class="menu-section"><span class="menu-title">{_phrase(rng, words, 2)}</span><ul>'
        + "".join(
            f'<li class="menu-item"><a href="/section/{s}/{i}" data-track="nav-{s}-{i}">'
            f"<span>{_phrase(rng, words, 2)}</span></a></li>"
            for i in range(16)
        )
        + "</ul></li>"
        for s in range(14)
    )
    cards = "".join(
        f'<div class="card card--{i % 3}"><a class="card__link" href="/news/other-{i}.html">'
        f'<figure class="card__media"><img src="/img/{i}.jpg" alt="{_phrase(rng, words, 5)}" '
        f'loading="lazy" width="320" height="180"></figure><div class="card__body">'
        f'<h3 class="card__title">{_phrase(rng, words, 9)}</h3>'
        f'<p class="card__summary">{_phrase(rng, words, 24)}</p>'
        f'<span class="card__meta">{_phrase(rng, words, 2)}</span></div></a></div>'
        for i in range(24)
    )
    footer = "".join(
        f'<div class="footer-col"><h4>{_phrase(rng, words, 2)}</h4><ul>'
        + "".join(f'<li><a href="/f/{c}/{i}">{_phrase(rng, words, 2)}</a></li>' for i in range(18))
        + "</ul></div>"
        for c in range(8)
    )
    return (
        f'<nav class="mega-menu" aria-label="Sections"><ul>{menu}</ul></nav>',
        f'<section class="more-stories"><h2>More stories</h2><div class="grid">{cards}</div>'
        "</section>",
        f'<footer class="site-footer-links">{footer}</footer>',
    )


def article_page(number: int, rng: random.Random, words: list[str]) -> str:
    """The sample site's article page (cookie banner, navigation, related links, comments,
    footer) with new text, title and canonical URL, and the weight of a real page."""
    template = TEMPLATE.read_text(encoding="utf-8")
    paragraphs = article_text(rng, words)
    title = " ".join(rng.choice(words) for _ in range(9)).capitalize()
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = _BODY.sub(lambda _: f'<div class="story-body">\n{body}\n</div>', template)
    page = page.replace("aid-convoys-expand.html", f"story-{number}.html")
    page = page.replace("Aid convoys into Gaza double as ceasefire enters its second week", title)
    scripts = "".join(
        f"<script>window.analytics_{i} = {json.dumps(' '.join(rng.choices(words, k=400)))};"
        "</script>"
        for i in range(6)
    )
    menu, cards, footer = _chrome(rng, words)
    page = page.replace("</head>", scripts + "\n</head>")
    page = page.replace("<main>", menu + "\n<main>")
    return page.replace("</main>", "</main>\n" + cards + footer)


def write_site(folder: Path, pages: int, seed: int = 7) -> list[bytes]:
    """`pages` article pages under folder/news/ and their RSS feed at folder/news/rss.xml."""
    rng = random.Random(seed)
    words = vocabulary()
    news = folder / "news"
    news.mkdir(parents=True, exist_ok=True)
    bodies: list[bytes] = []
    for number in range(pages):
        page = article_page(number, rng, words).replace("/harbor-times/2025/01/", "/news/")
        (news / f"story-{number}.html").write_text(page, encoding="utf-8")
        bodies.append(page.encode("utf-8"))
    write_feed(news, [f"story-{number}" for number in range(pages)])
    return bodies


def write_feed(news: Path, names: list[str], feed: str = "rss.xml") -> None:
    """news/<feed> listing news/<name>.html for each name ({base}: the server's address)."""
    items = "".join(
        f"<item><title>{name}</title><link>{{base}}/news/{name}.html</link>"
        f'<guid isPermaLink="false">{name}</guid></item>'
        for name in names
    )
    (news / feed).write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title>'
        f"{items}</channel></rss>",
        encoding="utf-8",
    )


def _serve(root: str, hosts: list[str], ready: multiprocessing.Queue) -> None:
    import signal
    import threading

    from newsmon.samplesite import SiteServer

    servers = [SiteServer([Path(root)], host=host).__enter__() for host in hosts]
    ready.put([server.base_url for server in servers])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    ready.put(time.process_time())


class SiteProcess:
    """Serves a folder from another process, so the server takes no GIL from what is measured.

    One server per address in `hosts` (any of 127.0.0.0/8 works on Linux), so
    per-host politeness sees as many sites. The servers still take CPU from the
    same cores; `cpu_seconds` says how much, once stopped.
    """

    def __init__(self, root: Path, hosts: list[str] | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue()
        self._process = context.Process(
            target=_serve, args=(str(root), hosts or ["127.0.0.1"], self._queue), daemon=True
        )
        self.base_urls: list[str] = []
        self.cpu_seconds = 0.0

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    def __enter__(self) -> SiteProcess:
        self._process.start()
        self.base_urls = self._queue.get(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self.cpu_seconds = round(self._queue.get(timeout=10), 2)
        self._process.join(10)


def warm_up_prefect() -> None:
    """Start Prefect's temporary API before anything is timed (it takes a few seconds)."""
    from prefect import flow

    @flow(name="warm-up")
    def warm_up() -> None:
        return None

    warm_up()


def in_process(target: Any, *args: Any) -> dict[str, Any]:
    """Run `target` in a fresh process and return what it reports; its crash is ours."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=target, args=(*args, out))
    process.start()
    while True:
        try:
            result = out.get(timeout=1)
            break
        except queue.Empty:
            if not process.is_alive():
                died = f"{target.__name__} died with exit code {process.exitcode}"
                raise RuntimeError(died) from None
    process.join()
    return result


def write_warc_response(writer: Any, url: str, body: bytes) -> None:
    """One archived 200 text/html response, as a crawler's WARC holds it."""
    from warcio.statusandheaders import StatusAndHeaders

    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
    )


def topic_table(**overrides: object) -> str:
    """The feeds file's [topic] table, aliases and all, with `overrides`, as TOML."""
    topic = tomllib.loads((ROOT / "feeds.toml").read_text(encoding="utf-8"))["topic"]
    topic = topic | overrides
    aliases = topic.pop("aliases", {})
    lines = ["[topic]", *(f"{key} = {json.dumps(value)}" for key, value in topic.items())]
    lines += [
        "[topic.aliases]",
        *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in aliases.items()),
    ]
    return "\n".join(lines) + "\n"


def timed_poll(
    folder: Path, base: str, database: str, topic: str = "", feed: str = "rss.xml"
) -> tuple[float, object]:
    """Seconds for one poll-feeds run of the site's `feed` into `database`, and its report."""
    from extractors.collect import close_extraction_pools
    from flows.poll import poll_feeds

    feeds = folder / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nurl = "{base}/news/{feed}"\nname = "bench"\n{topic}')
    close_extraction_pools()  # each run starts its own, as each scheduled run's process does
    started = time.perf_counter()
    report = poll_feeds(feeds_file=str(feeds), db_path=str(folder / database))
    return time.perf_counter() - started, report
