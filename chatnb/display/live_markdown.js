// chatnb's live answer, rendered in the browser as it arrives (chatnb/display/live_markdown.py).
//
// The kernel sends the text once, by appending, and says which of it is finished:
//   {append: "...", freeze: [{n, markdown?}], plain: null | k, math: bool, footer: "..."}
// Finished parts are rendered once with the frontend's own Markdown renderer (JupyterLab's and
// Notebook 7's rendermime: the same parser, math and highlighting as the final Markdown output)
// and frozen in the DOM. Only the open tail is rendered again, at most once per animation frame
// and never more often than its own cost allows. `plain` says where the tail stops being
// renderable (text that safe mode or the math rewrite would change, display math not closed
// yet, a table row waiting for its delimiter row): from there it shows as plain text, never
// parsed as HTML. Without a rendermime (another frontend) everything shows as plain text.
const lives = new Map();
const MAY_HOLD_MATH = /\$|\\\(|\\\[|\\begin\{/;

function initialize({ model }) {
  const key = model.get("key");
  const live = {
    text: model.get("text"), parts: [], frozen: "", plain: null, math: false, footer: "",
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
async function renderNodes(rendermime, markdown) {
  if (!markdown) return [];
  const renderer = rendermime.createRenderer("text/markdown");
  const data = { "text/markdown": markdown };
  await renderer.renderModel({ data, metadata: {}, trusted: true, setData() {} });
  const nodes = Array.from(renderer.node.childNodes);
  renderer.dispose();
  return nodes;
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

  let rendered = 0;        // parts of live.parts in the DOM
  let tailNodes = [];      // the rendered open tail, last in `body`
  let shownTail = null;    // the Markdown those nodes show
  let busy = false, again = false, notBefore = 0;

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
  const draw = async () => {
    // One state, taken before any await: messages that arrive meanwhile are the next draw's.
    const text = live.text;
    const cut = live.plain === null ? text.length : Math.min(live.plain, text.length);
    const tail = text.slice(0, cut);
    const fresh = live.parts.slice(rendered);
    const started = performance.now();
    // Rendered away from the page, then swapped in at once: a block that moves from the tail
    // to the frozen parts is replaced by the same DOM, and nothing jumps.
    const partNodes = [];
    for (const markdown of fresh) partNodes.push(...(await renderNodes(rendermime, markdown)));
    const newTail = tail === shownTail && !fresh.length ? null : await renderNodes(rendermime, tail);
    for (const node of tailNodes) if (newTail !== null) node.remove();
    const anchor = newTail === null ? tailNodes[0] || null : null;
    for (const node of partNodes) body.insertBefore(node, anchor);
    if (newTail !== null) {
      body.append(...newTail);
      tailNodes = newTail;
      shownTail = tail;
    }
    typeset(partNodes, fresh.join(""));
    if (newTail !== null) typeset(newTail, tail);
    rendered += fresh.length;
    showPlain(text.slice(cut));
    // Never more than about a quarter of the main thread: wait three times what this draw
    // cost, its layout included (read now, so that the cost is counted here).
    void body.offsetHeight;
    notBefore = performance.now() + 3 * (performance.now() - started);
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
      if (msg.append || msg.freeze || "plain" in msg || "math" in msg) pump();
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
