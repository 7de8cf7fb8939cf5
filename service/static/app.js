/* Isnad chat page — plain JS, no framework, no build step.
 * SECURITY: every string from the user or the corpus reaches the DOM through
 * textContent / createTextNode / setAttribute only (never innerHTML), so an
 * article containing "<img src=x onerror=…>" or "<script>" shows up literally. */
(function () {
  "use strict";

  // ---------- Pure helpers (exported at the bottom for node unit tests) ----------
  // Strong right-to-left letters: Hebrew, Arabic, Syriac, Thaana, NKo, Arabic presentation forms.
  const RTL = "\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC";
  const RTL_RE = new RegExp("[" + RTL + "]");
  const STRONG_RE = new RegExp("[" + RTL + "A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]");

  /** "rtl" | "ltr" | "auto", from the first strong character (the same rule dir="auto" uses). */
  function detectDir(text) {
    const m = STRONG_RE.exec(String(text || ""));
    return !m ? "auto" : RTL_RE.test(m[0]) ? "rtl" : "ltr";
  }

  /** The answer as [{text, n?}] runs: the service's `answer_segments`, never markers parsed out of text
   *  (a document's own "[1]" must stay text). Without segments (an older server) the string is plain text. */
  function answerSegments(data) {
    const segs = data && Array.isArray(data.answer_segments) ? data.answer_segments : null;
    if (!segs) return [{ text: String((data && data.answer) || "") }];
    return segs.map((s) => ({ text: String((s && s.text) || ""), n: s && Number.isInteger(s.n) ? s.n : null }));
  }

  /** Cut `text` into [before, cited, after] at Python *code-point* offsets [start, end).
   *  JS strings are UTF-16, so an emoji is 2 units but 1 code point: slicing with
   *  String#slice would shift the highlight after every astral character. If the
   *  offsets don't reproduce the expected passage (stale index), fall back to a
   *  plain search; null when the passage can't be found at all. */
  function splitByCodePoints(text, start, end, expected) {
    const cps = Array.from(text);
    if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= cps.length) {
      const cited = cps.slice(start, end).join("");
      if (expected == null || cited === expected) {
        return [cps.slice(0, start).join(""), cited, cps.slice(end).join("")];
      }
    }
    const at = expected ? text.indexOf(expected) : -1;
    return at < 0 ? null : [text.slice(0, at), expected, text.slice(at + expected.length)];
  }

  /** FastAPI errors: {"detail": "msg"} or {"detail": [{loc, msg, type}, …]} → one readable line. */
  function errorMessage(status, body) {
    const d = body && body.detail;
    if (typeof d === "string" && d) return d;
    if (Array.isArray(d) && d.length) return d.map((e) => {
      const loc = Array.isArray(e && e.loc) ? e.loc.filter((p) => p !== "body").join(".") : "";
      return (loc ? loc + ": " : "") + ((e && e.msg) || JSON.stringify(e));
    }).join("; ");
    return d ? JSON.stringify(d) : "Request failed (HTTP " + status + ")";
  }

  /** Show ISO timestamps as their date part; leave anything else as the server sent it. */
  function fmtDate(value) {
    if (!value) return "";
    const m = /^\d{4}-\d{2}-\d{2}/.exec(String(value));
    return m ? m[0] : String(value);
  }

  /** The href for a source URL, or null: only absolute http/https URLs become links (never javascript:,
   *  data:, or a relative path that would point into this service). */
  function safeHref(value) {
    if (typeof value !== "string" || !value) return null;
    let u;
    try { u = new URL(value); } catch (_) { return null; }
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  }

  /** Link text for a source: its site, else the URL's host. */
  function sourceLabel(site, href) {
    if (site) return String(site);
    try { return new URL(href).host; } catch (_) { return String(href || ""); }
  }

  // ---------- DOM helpers ----------
  const byId = (id) => document.getElementById(id);

  /** Create an element; children that aren't Nodes become text nodes (never parsed as HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null && v !== false) node.setAttribute(k, String(v));
    for (const c of children) {
      if (c != null && c !== "") node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  /** JSON fetch that turns network failures and 4xx/5xx bodies into Error(message-for-humans). */
  // A read key, when the archive needs one: asked for once, kept for this tab only (sessionStorage).
  const KEY_SLOT = "isnad-read-key";

  async function api(path, body, retried = false) {
    const headers = { Accept: "application/json" };
    const key = sessionStorage.getItem(KEY_SLOT);
    if (key) headers.Authorization = "Bearer " + key;
    const init = body === undefined ? { headers } : { method: "POST",
      headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const res = await fetch(path, init).catch(() => {
      throw new Error("Cannot reach the Isnad server. Check the connection and try again.");
    });
    if (res.status === 401 && !retried) {
      const entered = window.prompt("This archive needs a read key. Paste your Isnad key:");
      if (entered) {
        sessionStorage.setItem(KEY_SLOT, entered.trim());
        return api(path, body, true);
      }
    }
    if (res.status === 401) sessionStorage.removeItem(KEY_SLOT); // a wrong key is asked for again next time
    let data = null;
    try { data = await res.json(); } catch (_) { /* non-JSON body, e.g. a proxy error page */ }
    if (!res.ok) throw new Error(errorMessage(res.status, data));
    if (data === null) throw new Error("Unexpected (non-JSON) response from the server.");
    return data;
  }

  // ---------- State ----------
  const docCache = new Map(); // doc_id → Promise<document>; a promise so concurrent clicks share one request
  let articleToken = 0;       // only the latest citation click may render the article panel
  let busy = false;

  function getDocument(docId, collection) {
    const slot = (collection || "") + "/" + docId; // one doc_id may name documents of two collections
    if (!docCache.has(slot)) {
      const path = (collection ? "/collections/" + encodeURIComponent(collection) : "") + "/documents/";
      const p = api(path + encodeURIComponent(docId));
      p.catch(() => docCache.delete(slot)); // don't cache failures, so a retry can succeed
      docCache.set(slot, p);
    }
    return docCache.get(slot);
  }

  /** Site (linked to the original page when its URL is http/https) and date of a citation, or null when it
   *  has neither. The link opens apart, with no opener or referrer; its text is a text node. */
  function sourceLine(c) {
    const href = safeHref(c.url);
    const parts = [];
    if (href) {
      const a = el("a", { class: "cite-link", href, target: "_blank", rel: "noopener noreferrer",
        title: String(c.url) }, el("bdi", {}, sourceLabel(c.site, href)));
      a.addEventListener("click", (e) => e.stopPropagation()); // follow the link, don't open the panel
      a.addEventListener("keydown", (e) => e.stopPropagation());
      parts.push(a);
    } else if (c.site) {
      parts.push(el("bdi", { class: "cite-site" }, c.site));
    }
    if (c.published) parts.push(el("time", { class: "cite-date", datetime: fmtDate(c.published) }, fmtDate(c.published)));
    if (c.summary_only) parts.push(el("span", { class: "cite-summary" }, "feed summary only"));
    // The same passage on other sites: one claim carried by more sources, not a second confirmation.
    const also = Array.isArray(c.also_reported_by) ? c.also_reported_by : [];
    if (also.length) {
      const more = el("span", { class: "cite-also" }, "also reported by · نشره أيضاً: ");
      also.forEach((o, i) => {
        if (i) more.appendChild(document.createTextNode(", "));
        const h = safeHref(o && o.url);
        const label = sourceLabel(o && (o.site || o.doc_id), h);
        more.appendChild(h ? el("a", { class: "cite-link", href: h, target: "_blank", rel: "noopener noreferrer" },
          el("bdi", {}, label)) : el("bdi", {}, label));
      });
      more.querySelectorAll("a").forEach((a) => a.addEventListener("click", (e) => e.stopPropagation()));
      parts.push(more);
    }
    if (!parts.length) return null;
    const line = el("span", { class: "cite-source", dir: "auto" });
    parts.forEach((p, i) => { if (i) line.appendChild(document.createTextNode(" · ")); line.appendChild(p); });
    return line;
  }

  function showError(msg) { byId("error").textContent = msg || ""; byId("error").hidden = !msg; }

  function setBusy(on) {
    busy = on;
    byId("ask-button").disabled = on;
    byId("ask-form").classList.toggle("is-loading", on);
    byId("ask-form").setAttribute("aria-busy", String(on));
  }

  /** Only the newest Q&A carries #answer / #citations, so ids stay unique across the history. */
  function claimIds(entry) {
    for (const id of ["answer", "citations"]) {
      const old = byId(id);
      if (old) old.removeAttribute("id");
      const mine = entry && entry.querySelector("." + id);
      if (mine) mine.id = id;
    }
  }

  // ---------- Asking ----------
  function buildRequest(question) {
    const k = parseInt(byId("k").value, 10);
    const req = { question, k: Number.isInteger(k) && k > 0 ? Math.min(k, 20) : 5 };
    const f = {}, round = byId("filter-round").value.trim(), doc = byId("filter-doc").value.trim();
    if (byId("filter-from").value) f.published_from = byId("filter-from").value; // <input type=date> gives YYYY-MM-DD
    if (byId("filter-to").value) f.published_to = byId("filter-to").value;
    if (doc) f.doc_id = doc;
    if (round !== "" && Number.isInteger(Number(round))) f.round = Number(round);
    if (Object.keys(f).length) req.filters = f; // omit entirely when unused: the field is optional
    const picked = chosenCollections();
    if (picked) req.collections = picked;
    return req;
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    const input = byId("question");
    const question = input.value.trim();
    if (!question || busy) return;
    setBusy(true); showError(null);
    claimIds(null); // #answer disappears while loading → tests can simply wait for #answer
    const entry = el("article", { class: "qa pending" },
      el("p", { class: "q", dir: "auto" }, question),
      el("p", { class: "loading", role: "status" }, "Searching the archive… جارٍ البحث…"));
    byId("history").appendChild(entry);
    entry.scrollIntoView({ block: "end" });
    try {
      const data = await api("/ask", buildRequest(question));
      renderAnswer(entry, data);
      labelCollections(entry, data);
      // the key may have been entered just now: load the picker, then label this answer too
      if (!collectionsLoaded) loadCollections().then(() => labelCollections(entry, data));
      input.value = ""; // keep the text on failure so the user can retry
    } catch (err) {
      entry.remove();
      claimIds(byId("history").lastElementChild);
      showError(err.message);
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  function renderAnswer(entry, data) {
    const cites = Array.isArray(data.citations) ? data.citations : [];
    const byN = new Map(cites.map((c) => [Number(c.n), c]));
    entry.classList.remove("pending");
    entry.querySelector(".loading").remove();
    const segments = answerSegments(data);
    const certainty = certaintyOf(data);
    const answer = el("div", { class: "answer", dir: detectDir(segments.map((x) => x.text).join(" ")),
      "data-abstained": String(!!data.abstained), "data-certainty": certainty });
    entry.dataset.certainty = certainty;
    if (data.abstained) {
      entry.classList.add("abstained");
      answer.appendChild(el("p", { class: "abstained-notice", dir: "auto" },
        "Not found in the corpus — لم يُعثر على إجابة في المصادر المتاحة."));
    } else if (certainty === "possible") {
      // Doubt shown as doubt: a muted, outlined answer under a notice, never the sure answer's look.
      entry.classList.add("possible");
      answer.appendChild(el("p", { class: "possible-notice", dir: "auto" },
        "Possible answer, not confirmed: read the passage — إجابة محتملة غير مؤكدة: اقرأ المقطع."));
    }
    // Each segment's text stays a text node; a marker button follows it only when the service cited it.
    const text = el("p", { class: "answer-text" });
    segments.forEach((seg, i) => {
      if (i) text.appendChild(document.createTextNode(" "));
      if (seg.text) text.appendChild(document.createTextNode(seg.text));
      const c = seg.n == null ? null : byN.get(seg.n);
      if (!c) return; // no citation of that number: no marker
      const btn = el("button", { type: "button", class: "citation-marker", "data-n": c.n,
        title: c.title || c.doc_id, "aria-label": "Source " + c.n }, "[" + c.n + "]");
      btn.addEventListener("click", () => openCitation(entry, c));
      text.append(document.createTextNode(" "), btn);
    });
    if (text.childNodes.length) answer.appendChild(text);
    entry.appendChild(answer);
    if (cites.length) {
      const list = el("ol", { class: "citations" });
      for (const c of cites) {
        const li = el("li", { "data-n": c.n, tabindex: "0", role: "button", "aria-label": "Open source " + c.n + (c.title ? ": " + c.title : "") },
          el("div", { class: "cite-head", dir: detectDir(c.title) }, // <bdi> is skipped by dir=auto, so decide here
            el("span", { class: "cite-n" }, "[" + c.n + "]"), " ",
            el("bdi", { class: "cite-title", "data-derived": String(!!c.title_derived),
              title: c.title_derived ? "No headline: the article's first sentence" : null }, c.title || c.doc_id), " ",
            el("bdi", { class: "doc-id" }, c.doc_id)),
          sourceLine(c),
          el("blockquote", { class: "cite-text", dir: detectDir(c.text) }, c.text));
        li.addEventListener("click", () => openCitation(entry, c));
        li.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openCitation(entry, c); }
        });
        list.appendChild(li);
      }
      entry.appendChild(list);
    }
    const took = typeof data.took_ms === "number" ? Math.round(data.took_ms) + " ms" : "";
    entry.appendChild(el("p", { class: "meta" }, cites.length + " source(s)", took ? el("small", { class: "took" }, " · " + took) : null));
    renderAnswerability(entry, data, cites);
    claimIds(entry);
  }

  /** "sure" | "possible" | "not_found" (issue 28); a server too old to say is taken as before: sure or not found. */
  function certaintyOf(data) {
    if (data.abstained) return "not_found";
    return data.certainty === "possible" || data.certainty === "sure" ? data.certainty : "sure";
  }

  // ---------- Confidence, answer span, closest passages (issue 9) ----------
  /** Confidence 0.934 → "93%"; null when the server gave none. */
  function fmtConfidence(value) {
    return typeof value === "number" && value >= 0 && value <= 1 ? Math.round(value * 100) + "%" : null;
  }

  function renderAnswerability(entry, data, cites) {
    const answer = entry.querySelector(".answer");
    const pct = fmtConfidence(data.confidence);
    if (pct && answer) {
      answer.appendChild(el("p", { class: "confidence", "data-confidence": data.confidence,
        title: "How likely the archive answers this question" }, "Confidence · الثقة: " + pct));
    }
    const span = data.answer_span;
    const cite = span && cites.find((c) => Number(c.n) === Number(span.n));
    const quote = cite && entry.querySelector('.citations li[data-n="' + Number(cite.n) + '"] .cite-text');
    if (quote) {
      // Span offsets are into the document, like the citation's: shift them into the citation's text.
      const parts = splitByCodePoints(String(cite.text), span.start - cite.start, span.end - cite.start, span.text);
      if (parts) {
        quote.replaceChildren(document.createTextNode(parts[0]),
          el("mark", { class: "answer-span", "data-n": cite.n }, parts[1]), document.createTextNode(parts[2]));
      }
    }
    const closest = Array.isArray(data.closest) ? data.closest : [];
    if (data.abstained && closest.length) {
      const list = el("ol", { class: "closest-list" });
      for (const c of closest) {
        list.appendChild(el("li", { "data-doc-id": c.doc_id },
          el("div", { class: "cite-head", dir: detectDir(c.title) }, el("bdi", { class: "cite-title" }, c.title || "(untitled)"),
            " ", el("bdi", { class: "doc-id" }, c.doc_id)),
          sourceLine(c),
          el("blockquote", { class: "cite-text", dir: detectDir(c.text) }, c.text)));
      }
      entry.insertBefore(el("details", { class: "closest" },
        el("summary", {}, "Closest passages — they do not answer the question · أقرب المقاطع، ولا تجيب عن السؤال"),
        list), entry.querySelector(".meta"));
    }
  }

  // ---------- Collections (issue 30) ----------
  let collectionsLoaded = false;

  /** The picker: the key's own collections (GET /collections), all ticked; shown only when there is a choice. */
  async function loadCollections() {
    let listed;
    try {
      listed = (await api("/collections", undefined, true)).collections; // never prompts: asking does
    } catch (_) {
      return; // no key yet, or an older server: no picker, the server's default applies
    }
    collectionsLoaded = true;
    const box = byId("collections");
    box.querySelectorAll("label").forEach((n) => n.remove());
    for (const c of Array.isArray(listed) ? listed : []) {
      box.appendChild(el("label", { class: "collection" },
        el("input", { type: "checkbox", name: "collection", value: c.name, checked: "" }), " ",
        el("bdi", {}, c.name)));
    }
    box.hidden = box.querySelectorAll("input").length < 2;
  }

  /** The ticked collections, or null when the picker is not shown (the server then uses every one the key reads). */
  function chosenCollections() {
    const box = byId("collections");
    if (box.hidden) return null;
    const picked = [...box.querySelectorAll("input:checked")].map((i) => i.value);
    return picked.length ? picked : null;
  }

  /** Each citation (and closest passage) says which collection it came from, when the page offers a choice. */
  function labelCollections(entry, data) {
    if (byId("collections").hidden) return;
    const all = [...(data.citations || []), ...(data.closest || [])];
    entry.querySelectorAll(".citations li[data-n]").forEach((li) => {
      const c = all.find((x) => String(x.n) === li.getAttribute("data-n"));
      const head = li.querySelector(".cite-head");
      if (!c || !c.collection || !head || head.querySelector(".cite-collection")) return;
      head.append(" ", el("bdi", { class: "cite-collection", title: "collection" }, c.collection));
    });
  }

  // ---------- Article panel ----------
  async function openCitation(entry, c) {
    // Highlight the clicked citation's marker(s) and list item; compare as strings, no selector injection.
    document.querySelectorAll(".active").forEach((n) => n.classList.remove("active"));
    entry.querySelectorAll("[data-n]").forEach((n) => {
      if (n.getAttribute("data-n") === String(c.n)) n.classList.add("active");
    });
    const token = ++articleToken;
    const panel = byId("article");
    panel.hidden = false;
    document.querySelector(".layout").classList.add("with-article");
    panel.setAttribute("aria-busy", "true");
    panel.setAttribute("data-doc-id", c.doc_id);
    panel.setAttribute("data-n", c.n);
    byId("article-note").hidden = true;
    try {
      const doc = await getDocument(c.doc_id, c.collection);
      if (token === articleToken) renderArticle(doc, c);
    } catch (err) {
      if (token !== articleToken) return;
      byId("article-title").textContent = c.title || c.doc_id;
      byId("article-meta").replaceChildren();
      byId("article-text").replaceChildren();
      note(err.message);
    } finally {
      if (token === articleToken) panel.removeAttribute("aria-busy");
    }
  }

  function note(msg) { byId("article-note").textContent = msg; byId("article-note").hidden = false; }

  function renderArticle(doc, c) {
    const text = String(doc.text || "");
    byId("article-title").textContent = doc.title || doc.doc_id;
    byId("article-title").setAttribute("data-derived", String(!!doc.title_derived));
    // <bdi> per field so an Arabic source next to a Latin doc_id keeps its own direction.
    const meta = byId("article-meta");
    meta.replaceChildren();
    const source = sourceLine({ url: doc.url, site: doc.site || doc.source, published: doc.published,
      summary_only: doc.summary_only });
    if (source) meta.appendChild(source);
    [doc.author, doc.doc_id].filter(Boolean).forEach((v) => {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("bdi", {}, v));
    });
    const box = byId("article-text");
    box.setAttribute("dir", detectDir(text) === "ltr" ? "ltr" : "rtl"); // Arabic corpus: rtl unless clearly LTR
    box.replaceChildren();
    const parts = splitByCodePoints(text, c.start, c.end, c.text);
    if (!parts) {
      box.appendChild(document.createTextNode(text));
      note("The cited passage could not be located in this version of the article.");
      return;
    }
    const mark = el("mark", { "data-n": c.n }, parts[1]);
    box.append(document.createTextNode(parts[0]), mark, document.createTextNode(parts[2]));
    mark.scrollIntoView({ block: "center" });
    byId("article").focus({ preventScroll: true }); // keyboard users land in the panel
  }

  function closeArticle() {
    articleToken++; // drop any in-flight load
    byId("article").hidden = true;
    document.querySelector(".layout").classList.remove("with-article");
    document.querySelectorAll(".active").forEach((n) => n.classList.remove("active"));
  }

  // ---------- Boot ----------
  async function loadHealth() {
    const s = byId("status");
    try {
      const h = await api("/health");
      const num = (x) => (typeof x === "number" ? x.toLocaleString("en") : "?");
      // Without a read key, where one is needed, /health gives the status alone: show that much.
      s.textContent = h.documents === undefined ? "Service ok (this archive needs a read key)"
        : num(h.documents) + " documents · " + num(h.chunks) + " passages · model " + h.model;
      s.setAttribute("data-state", h.status === "ok" ? "ok" : "degraded");
      // without a key where one is needed, /collections would count as a failed attempt: wait for the key
      if (h.documents !== undefined || sessionStorage.getItem(KEY_SLOT)) loadCollections();
    } catch (err) {
      s.textContent = "Service unavailable: " + err.message;
      s.setAttribute("data-state", "down");
    }
  }

  function init() {
    const form = byId("ask-form");
    form.addEventListener("submit", onSubmit);
    // Enter submits, Shift+Enter inserts a newline; never submit mid-IME composition.
    byId("question").addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
      e.preventDefault();
      if (form.requestSubmit) form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    });
    byId("article-close").addEventListener("click", closeArticle);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !byId("article").hidden) closeArticle(); });
    loadHealth();
    byId("question").focus();
  }
  if (typeof module !== "undefined" && module.exports) {
    module.exports = { detectDir, answerSegments, splitByCodePoints, errorMessage, fmtDate, fmtConfidence, safeHref,
      sourceLabel, certaintyOf };
  }
  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
    else init();
  }
})();
