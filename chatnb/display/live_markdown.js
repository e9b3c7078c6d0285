// chatnb's live answer, rendered in the browser as it arrives (chatnb/display/live_markdown.py).
//
// The kernel sends the text once, by appending, and says which of it is finished:
//   {append: "...", freeze: [{n, markdown?}], plain: null | k, math: bool,
//    block: null | [at, "table" | "code" | null], footer: "..."}
// Finished parts are rendered once with the frontend's own Markdown renderer (JupyterLab's and
// Notebook 7's rendermime: the same parser, math and highlighting as the final Markdown output)
// and frozen in the DOM. Only the open tail is rendered again, in an animation frame, at most
// ten times a second and never more often than its own cost allows. `plain` says where the tail
// stops being renderable (text that safe mode or the math rewrite would change, display math not
// closed yet, a table row waiting for its delimiter row): from there it shows as plain text,
// never parsed as HTML. `block` says where the tail's last block starts (what comes before it is
// finished blocks: rendered once) and whether it grows by lines (chatnb/markdown/live_tail.py's
// GrowingBlock): a table's new complete rows are rendered under its head and moved into the live
// table's body, a code block's new complete lines into its <code>; only the last, incomplete
// line is rendered again each draw. A paragraph grows by words (`settlePoint`): its text up to a
// settle point is rendered once, in pieces appended to the live <p>, and only the words after it
// are rendered again. So a draw costs O(new text), not O(block).
// Without a rendermime (another frontend) everything shows as plain text.
const lives = new Map();
// A draw waits this many times its own cost (its frame's layout and paint included) before
// the next: at most 1/(1+DRAW_WAIT) of the main thread goes to drawing the live answer, a
// sixth, so that with the page's other work while an answer streams (its messages arriving,
// the footer) the whole stays under a fifth of what the naive recipe takes (all of it).
// Where draws typically take longer than a frame, they wait longer still, in proportion to
// the frames they take: such draws make the page miss frames, and their cost is mostly the
// browser laying out a long block again (a 400 KB paragraph: ~40 ms however few words a draw
// adds), so fewer, larger draws cost less. "Typically": the median of the last few draws, as
// one draw's cost may hold a garbage collection. But no wait is longer than MAX_WAIT_MS, so
// that what arrived is rendered within about three quarters of a second (the 400 KB
// paragraph's draws cost 40-60 ms at its end). And draws start at least MIN_GAP_MS apart,
// however cheap: besides its own cost, each draw brings the page work around a changed frame
// that grows with the page and is not paced (a mixed 100 KB answer drew 18 times a second,
// every message the kernel sent, and took 20% of its stream's main thread, though its draws
// measured 12%). Ten draws a second keep the text at most 0.1 s later. docs/benchmarks.md has
// the figures.
const DRAW_WAIT = 5;
const MIN_GAP_MS = 100;
const FRAME_MS = 1000 / 60;
const MAX_WAIT_MS = 600;
const TYPICAL_OF = 5;
const MAY_HOLD_MATH = /\$|\\\(|\\\[|\\begin\{/;

// A paragraph's text up to a settle point renders the same whatever follows it, so the live
// view renders it once, in pieces, and renders again only the words after it. Before a settle
// point no character may pair with a later one: emphasis, strikethrough, links, HTML, escapes,
// math (the frontend pairs `$` across a paragraph) and a table's cells (a delimiter row
// arriving later makes a table of the line above it), except in code spans closed before it.
// A settle point is a space between a non-space and a letter: the piece before it ends where
// a word ends, and the piece after it starts a paragraph line however the text is cut (no
// list, heading, quote, fence or HTML starts with a letter). Each piece must still render
// alone as one paragraph, or the tail is rendered whole (a later line can make the
// paragraph a heading, a table or a list: tests/test_browser.py has such cases).
const PAIRS_LATER = new Set(["*", "_", "~", "[", "]", "<", "\\", "$", "|"]);
const LETTER = /\p{L}/u;

// The last settle point of `text` after `from` (a settle point, or 0: none yet), scanning
// from there: { at, final }, `at` = `from` when there is none; `final`: no later text can add
// one (a character that pairs later was met, not a code span that may still close).
function settlePoint(text, from) {
  let at = from;
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "`") {
      const end = codeSpanEnd(text, i);
      if (end < 0) return { at, final: end === NEVER };
      i = end - 1;
    } else if (PAIRS_LATER.has(c)) {
      return { at, final: true };
    } else if (c === " " && !/\s/.test(text[i - 1]) && LETTER.test(text[i + 1] || "")) {
      at = i;
    }
  }
  return { at, final: false };
}

// Where the code span opened by the backticks at `start` ends (past its closing run), -1
// while it is open, NEVER when it holds a character no settle point may pass: its text may
// hold what pairs elsewhere, not a table's `|` nor `$` or `\` (the frontend's math
// extraction reads them in code spans that run over lines).
const NEVER = -2;
function codeSpanEnd(text, start) {
  let i = start;
  while (text[i] === "`") i++;
  const run = i - start;
  while (i < text.length) {
    const c = text[i];
    if (c === "|" || c === "$" || c === "\\") return NEVER;
    if (c !== "`") { i++; continue; }
    const opened = i;
    while (text[i] === "`") i++;
    if (i - opened === run) return i;
  }
  return -1;
}

function initialize({ model }) {
  const key = model.get("key");
  const live = {
    text: model.get("text"), parts: [], frozen: "", plain: null, math: false, footer: "",
    block: null,
    views: new Set(),
  };
  lives.set(key, live);
  model.on("msg:custom", (msg) => {
    if (msg.append) live.text += msg.append;
    for (const part of msg.freeze || []) {
      const source = live.text.slice(0, part.n);
      live.text = live.text.slice(part.n);
      live.frozen += source;  // what a view without a renderer shows as text
      live.parts.push(part.markdown ?? source);
    }
    if ("plain" in msg) live.plain = msg.plain;
    if ("math" in msg) live.math = msg.math;
    if ("block" in msg) live.block = msg.block;
    if (msg.footer !== undefined) live.footer = msg.footer;
    for (const view of live.views) view.changed(msg);
  });
  return () => lives.delete(key);
}

// The rendermime of the notebook the widget is in (JupyterLab's widget manager has one).
function rendermimeOf(model) {
  const manager = model.widget_manager;
  const rendermime = manager && (manager.rendermime || manager._rendermime);
  return rendermime && rendermime.markdownParser ? rendermime : null;
}

// Markdown rendered by the frontend's own renderer, as trusted as the final output is.
// `stats` (if given) counts the elements and characters rendered, for the tests.
async function renderNodes(rendermime, markdown, stats) {
  if (!markdown) return [];
  const renderer = rendermime.createRenderer("text/markdown");
  const data = { "text/markdown": markdown };
  await renderer.renderModel({ data, metadata: {}, trusted: true, setData() {} });
  const nodes = Array.from(renderer.node.childNodes);
  if (stats) {
    stats.elements += renderer.node.getElementsByTagName("*").length;
    stats.chars += markdown.length;
  }
  renderer.dispose();
  return nodes;
}

// JupyterLab's highlighted code ends without the last line's newline (plain code keeps it):
// before more code is appended, the code so far gets it back, as the whole block has it
// there. Returns the newline added (in the last piece, where it adds no line), or null.
function lineEnd(code) {
  let last = code.lastChild;
  while (last && last.nodeType === 1 && last.lastChild) last = last.lastChild;
  if (!last || (last.nodeType === 3 && last.data.endsWith("\n"))) return null;
  const newline = document.createTextNode("\n");
  const piece = code.lastChild;
  if (piece.nodeType === 1 && piece.classList.contains("chatnb-code-piece")) piece.append(newline);
  else code.append(newline);
  return newline;
}

// Resolves in a task posted now: after the rendering of the current frame (style, layout,
// paint), when called from an animation-frame callback.
function afterThisFrame() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { channel.port1.close(); resolve(); };
    channel.port2.postMessage(null);
  });
}

// The one element a block's rendering is made of (a TABLE, a PRE), or null.
function only(nodes, tag) {
  const elements = nodes.filter((node) => node.nodeType === 1);
  const blank = nodes.every((node) => node.nodeType === 1 || !node.textContent.trim());
  return elements.length === 1 && blank && elements[0].tagName === tag ? elements[0] : null;
}

// Where a growing block's lines go: a table's body (made if missing), a code block's <code>,
// a paragraph's words into the paragraph.
function innerOf(element, kind) {
  if (kind === "code") return element.querySelector("code") || element;
  if (kind === "paragraph") return element;
  return element.tBodies[0] || null;
}

// What a rendered line (or lines) of a growing block adds to it: a table's rows, a code
// block's nodes; `rest`: what the text rendered after the block (a line that ended a table).
function addedBy(nodes, kind) {
  const tag = kind === "table" ? "TABLE" : "PRE";
  const at = nodes.findIndex((node) => node.nodeType === 1);
  const first = at < 0 ? null : nodes[at];
  if (!first || first.tagName !== tag) return { inner: [], body: null, rest: nodes };
  const rest = nodes.slice(at + 1);
  if (kind === "code") {
    // Each piece of code a box of its own: the browser then lays out only the new piece, not
    // all the lines of the block again (one text run of 20 KB took 27 ms a draw, growing).
    // A piece ends in a newline, which ends its last line and adds none.
    const piece = document.createElement("span");
    piece.className = "chatnb-code-piece";
    piece.style.display = "block";
    piece.append(...innerOf(first, kind).childNodes);
    return { inner: [piece], body: null, rest };
  }
  const body = first.tBodies[0] || null;
  return { inner: body ? Array.from(body.rows) : [], body, rest };
}

// What a piece of a growing paragraph adds to it: the space before it, then what the piece
// renders to inside its one <p>; null when it renders to anything else.
function wordsOf(nodes) {
  const paragraph = only(nodes, "P");
  if (!paragraph) return null;
  return { inner: [document.createTextNode(" "), ...paragraph.childNodes], body: null, rest: [] };
}

function render({ model, el }) {
  const live = lives.get(model.get("key"));
  const rendermime = rendermimeOf(model);
  el.classList.add("chatnb-live");
  const body = document.createElement("div");
  // The classes of a Markdown output: the same styles, and the same last-block margin.
  body.className = "chatnb-rendered jp-RenderedHTMLCommon jp-RenderedMarkdown";
  body.dataset.mimeType = "text/markdown";
  const plain = document.createElement("div");
  plain.className = "chatnb-live-text";
  plain.style.whiteSpace = "pre-wrap";
  plain.style.overflowWrap = "anywhere";
  plain.style.color = "var(--jp-content-font-color2, inherit)";  // still arriving
  const footer = document.createElement("em");
  footer.className = "chatnb-live-footer";
  footer.style.opacity = "0.7";
  el.append(body, footer);
  // Parts go before this mark, the open tail after it (a comment: no element, no text).
  const tailMark = document.createComment("chatnb open tail");
  body.append(tailMark);
  // For the tests: elements rendered per draw (the parts', the tail's), and, when
  // window.chatnbLiveDebug is an array, each draw's tail, a copy of what shows it and the
  // characters it rendered.
  const stats = {
    draws: 0, partElements: [], tailElements: [], drawMs: [], renderAlone: null,
  };
  el.chatnbLive = stats;

  let rendered = 0;        // parts of live.parts in the DOM
  // The open tail as shown: `head` (finished blocks), then either the growing `block`
  // (its complete lines: `grown`; its last line: `pending` nodes inside it and `after` it)
  // or the rest rendered whole (`restNodes`).
  let shown = {
    head: "", headNodes: [], kind: null, grown: "", element: null, blockNodes: [],
    pending: [], pendingBody: null, after: [], last: null, rest: null, restNodes: [],
  };
  let busy = false, again = false, notBefore = 0;
  // Which open tail a draw shows (parts frozen before it, where its last block starts): one
  // whose piece did not render as a paragraph is not grown by words again until a cut; and
  // its last settle point found.
  let tailKey = "", refusedWords = null, settled = { key: null };

  // MathJax reads every text node it is given: only where the Markdown may hold math.
  const typeset = (nodes, markdown) => {
    const typesetter = rendermime && rendermime.latexTypesetter;
    if (!typesetter || !MAY_HOLD_MATH.test(markdown)) return;
    for (const node of nodes) if (node.nodeType === 1) typesetter.typeset(node);
  };
  const showPlain = (text) => {
    plain.textContent = text;
    plain.style.fontFamily = live.math ? "var(--jp-code-font-family, monospace)" : "inherit";
    if (!rendermime) return;  // then it is all there is, and stays in place
    if (text && !plain.isConnected) body.after(plain);
    else if (!text && plain.isConnected) plain.remove();
  };
  const renderTail = (markdown, counter) => renderNodes(rendermime, markdown, counter);
  stats.renderAlone = (markdown) => renderNodes(rendermime, markdown);

  // What the tail `tail` needs rendered, given what is shown: rendered off the page (awaits),
  // applied later by `apply` at once.
  const prepare = async (tail, block, counter) => {
    const at = block && block[0] <= tail.length ? block[0] : 0;
    let kind = block && block[0] <= tail.length ? block[1] : null;
    const head = tail.slice(0, at), rest = tail.slice(at);
    const next = { head, kind: null, headNodes: null };
    if (head !== shown.head) next.headNodes = await renderTail(head, counter);
    const lines = rest.lastIndexOf("\n") + 1;
    // A table's head is its first two lines, a code block's its fence line.
    let opening = kind === "table" ? rest.indexOf("\n", rest.indexOf("\n") + 1) + 1
      : kind === "code" ? rest.indexOf("\n") + 1 : 0;
    if (kind && (opening <= 0 || opening > lines)) kind = null;
    if (kind) {
      const grown = rest.slice(0, lines), last = rest.slice(lines);
      const top = rest.slice(0, opening);
      Object.assign(next, { kind, grown, top, last });
      const extends_ = shown.kind === kind && shown.element && shown.grown.length >= opening
        && grown.startsWith(shown.grown);
      if (extends_) {
        const added = grown.slice(shown.grown.length);
        next.addedText = added;
        next.added = added ? addedBy(await renderTail(top + added, counter), kind) : null;
        if (next.added && next.added.rest.some((n) => n.nodeType === 1)) kind = null;  // not ours
      } else {
        next.blockNodes = await renderTail(grown, counter);
        next.element = only(next.blockNodes, kind === "table" ? "TABLE" : "PRE");
        if (!next.element) kind = null;
      }
      // The last line again when it changed, and whenever lines came before it.
      if (kind && (!extends_ || next.added || last !== shown.last)) {
        next.pending = last ? addedBy(await renderTail(top + last, counter), kind) : null;
      }
    }
    if (!kind && refusedWords !== tailKey) {
      const paragraph = await prepareParagraph(rest, counter);
      if (paragraph) return Object.assign(next, paragraph);
    }
    if (!kind) {
      Object.assign(next, { kind: null, blockNodes: null, added: null, pending: undefined });
      next.rest = rest;
      if (rest !== shown.rest || shown.kind) next.restNodes = await renderTail(rest, counter);
    }
    return next;
  };

  // The open tail as a paragraph growing by words (see settlePoint), or null: then it is
  // rendered whole (and, once a piece rendered as something else, until the next cut).
  const prepareParagraph = async (rest, counter) => {
    const extends_ = shown.kind === "paragraph" && rest.startsWith(shown.grown)
      && rest[shown.grown.length] === " ";
    const from = extends_ ? shown.grown.length : 0;
    const known = settled.key === tailKey && settled.from === from && settled.final;
    if (!known) settled = { key: tailKey, from, ...settlePoint(rest, from) };
    if (!settled.at) return null;
    const refuse = () => { refusedWords = tailKey; return null; };
    const grown = rest.slice(0, settled.at), last = rest.slice(settled.at + 1);
    const next = { kind: "paragraph", grown, last, added: null };
    if (!extends_) {
      next.blockNodes = await renderTail(grown, counter);
      next.element = only(next.blockNodes, "P");
      if (!next.element) return refuse();
    } else if (settled.at > from) {
      next.addedText = rest.slice(from + 1, settled.at);
      next.added = wordsOf(await renderTail(next.addedText, counter));
      if (!next.added) return refuse();
    }
    if (!extends_ || next.added || last !== shown.last) {
      next.pending = wordsOf(await renderTail(last, counter));
      if (!next.pending) return refuse();
    }
    return next;
  };

  const dropPending = () => {
    for (const node of [...shown.pending, ...shown.after]) node.remove();
    if (shown.pendingBody) shown.pendingBody.remove();
    shown.pending = []; shown.after = []; shown.pendingBody = null;
  };
  const dropBlock = () => {
    dropPending();
    for (const node of shown.blockNodes) node.remove();
    Object.assign(shown, { kind: null, grown: "", element: null, blockNodes: [], last: null });
  };
  const dropRest = () => {
    for (const node of shown.restNodes) node.remove();
    Object.assign(shown, { rest: null, restNodes: [] });
  };
  const endOf = (nodes, before) => (nodes.length ? nodes[nodes.length - 1] : before);

  // Lines of a growing block moved into the live one (rows into its body, code into <code>,
  // words into the paragraph: settled text joins the text before it, one text node for a run
  // of plain words, not one per draw).
  const grow = (added, pending) => {
    const inner = innerOf(shown.element, shown.kind);
    if (inner && shown.kind === "paragraph" && !pending) {
      for (const node of added.inner) {
        const last = inner.lastChild;
        if (node.nodeType === 3 && last && last.nodeType === 3) last.appendData(node.data);
        else inner.append(node);
      }
    } else if (inner) {
      const separator = shown.kind === "code" && added.inner.length ? lineEnd(inner) : null;
      if (pending) shown.pending = separator ? [separator, ...added.inner] : added.inner;
      inner.append(...added.inner);
    } else if (added.body) {  // a table with no body row yet: its first rows bring one
      shown.element.append(added.body);
      if (pending) shown.pendingBody = added.body;
    }
  };

  const apply = (next) => {
    const newHead = next.headNodes !== null;
    if (newHead) {
      for (const node of shown.headNodes) node.remove();
      tailMark.after(...next.headNodes);
      Object.assign(shown, { head: next.head, headNodes: next.headNodes });
    }
    const afterHead = () => endOf(shown.headNodes, tailMark);
    if (next.kind) {
      dropRest();
      if (next.blockNodes) {
        dropBlock();
        afterHead().after(...next.blockNodes);
        Object.assign(shown, {
          kind: next.kind, element: next.element, blockNodes: next.blockNodes, last: null,
        });
      } else if (newHead) {
        afterHead().after(...shown.blockNodes, ...shown.after);  // the block stays after it
      }
      if (next.pending !== undefined) dropPending();
      if (next.added) grow(next.added, false);
      shown.grown = next.grown;
      if (next.pending) {
        grow(next.pending, true);
        shown.after = next.pending.rest;
        endOf(shown.blockNodes, afterHead()).after(...shown.after);
      }
      if (next.pending !== undefined) shown.last = next.last;
    } else {
      dropBlock();
      if (next.restNodes) {
        dropRest();
        afterHead().after(...next.restNodes);
        Object.assign(shown, { rest: next.rest, restNodes: next.restNodes });
      } else if (newHead) {
        afterHead().after(...shown.restNodes);
      }
    }
  };
  // Everything the tail shows now (for the tests' copy of each draw).
  const tailNodes = () => {
    const nodes = [];
    for (let node = tailMark.nextSibling; node; node = node.nextSibling) nodes.push(node);
    return nodes;
  };
  // Rendered nodes a draw brought, to typeset (MathJax), with their Markdown.
  const typesetNew = (next, tail) => {
    if (next.headNodes) typeset(next.headNodes, next.head);
    if (next.blockNodes) typeset(next.blockNodes, next.grown);
    if (next.added) typeset(next.added.inner, next.addedText);
    if (next.pending) typeset([...next.pending.inner, ...next.pending.rest], next.last);
    if (next.restNodes) typeset(next.restNodes, tail);
  };

  const draw = async () => {
    // One state, taken before any await: messages that arrive meanwhile are the next draw's.
    const text = live.text;
    const cut = live.plain === null ? text.length : Math.min(live.plain, text.length);
    const tail = text.slice(0, cut);
    const block = live.block;
    const fresh = live.parts.slice(rendered);
    const started = performance.now();
    // Rendered away from the page, then swapped in at once: a block that moves from the tail
    // to the frozen parts is replaced by the same DOM, and nothing jumps.
    const partCount = { elements: 0, chars: 0 }, tailCount = { elements: 0, chars: 0 };
    const partNodes = [];
    for (const markdown of fresh) {
      partNodes.push(...(await renderNodes(rendermime, markdown, partCount)));
    }
    tailKey = `${rendered + fresh.length}:${block ? block[0] : 0}`;
    const next = await prepare(tail, block, tailCount);
    for (const node of partNodes) body.insertBefore(node, tailMark);
    apply(next);
    typeset(partNodes, fresh.join(""));
    typesetNew(next, tail);
    rendered += fresh.length;
    showPlain(text.slice(cut));
    stats.draws += 1;
    stats.partElements.push(partCount.elements);
    stats.tailElements.push(tailCount.elements);
    if (Array.isArray(window.chatnbLiveDebug)) {
      const copy = tailNodes().map((node) => node.cloneNode(true));
      window.chatnbLiveDebug.push({
        key: model.get("key"), tail, nodes: copy, stats, chars: tailCount.chars,
      });
    }
    // Wait DRAW_WAIT times what this draw cost, the frame it changed included. The browser lays
    // out and paints that frame after this animation-frame callback, and a task posted now
    // runs only after it: for a growing 40 KB table, painting took more than the draw itself.
    await afterThisFrame();
    const cost = performance.now() - started;
    stats.drawMs.push(cost);
    const recent = stats.drawMs.slice(-TYPICAL_OF).sort((a, b) => a - b);
    const frames = Math.max(1, recent[recent.length >> 1] / FRAME_MS);
    notBefore = Math.max(
      started + MIN_GAP_MS, performance.now() + Math.min(MAX_WAIT_MS, DRAW_WAIT * cost * frames),
    );
  };
  const pump = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        const wait = notBefore - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await new Promise((resolve) => requestAnimationFrame(resolve));
        await draw();
      } while (again);
    } finally {
      busy = false;
    }
  };
  const view = {
    changed(msg) {
      if (msg.footer !== undefined) footer.textContent = live.footer;
      if (!rendermime) { showPlain(live.frozen + live.text); return; }
      if (msg.append || msg.freeze || "plain" in msg || "math" in msg || "block" in msg) pump();
    },
  };
  if (rendermime) {
    body.append(plain);
    plain.remove();
    pump();
  } else {
    el.prepend(plain);
    body.remove();
    showPlain(live.frozen + live.text);
  }
  footer.textContent = live.footer;
  live.views.add(view);
  return () => live.views.delete(view);
}

export default { initialize, render };
