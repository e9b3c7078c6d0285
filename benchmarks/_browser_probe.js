// Injected into every page of benchmarks/browser.py before JupyterLab loads. Once started, it
// samples the measured cell's output area every 100 ms and reports to Python (a binding,
// so the figures arrive even if the page later freezes): when each marker first appeared as
// text anywhere in the output area, and when it first appeared *rendered*: in a text node
// inside a .jp-RenderedMarkdown or .chatnb-rendered container, not inside the live plain
// text (.chatnb-live-text), whose nearest element of the marker's kind of line (h1-h6 for a
// heading, p for a paragraph, li for a list item, td/th for a table row, pre for code,
// blockquote for a quote) lies inside that container. It also keeps every animation frame's
// timestamp, long tasks, layout shifts (score and the largest vertical move of an element)
// and the largest JS heap seen, and what its own sampling cost.
(() => {
  const MARK = /m\d{5}(?!\d)/g;
  const KINDS = {
    heading: "h1,h2,h3,h4,h5,h6", para: "p", item: "li", row: "td,th", code: "pre",
    quote: "blockquote",
  };
  const B = (window.__bench = {
    started: false, cell: 1, kinds: {}, seen: {}, rendered: {},
    frames: [], longtasks: [], shifts: [], heap: 0, probeMs: 0, samples: 0,
  });
  let sent = { frames: 0, longtasks: 0, shifts: 0 };
  let fresh = { seen: {}, rendered: {} };
  const observe = (type, keep) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(keep))
        .observe({ type, buffered: true });
    } catch (e) { /* not supported by this browser: the figure stays empty */ }
  };
  observe("longtask", (e) => B.started && B.longtasks.push([e.startTime, e.duration]));
  observe("layout-shift", (e) => {
    if (!B.started || e.hadRecentInput) return;
    // Only what moved inside the measured cell's output area counts: the cells below it move
    // down as the answer grows, which is not a jump of what the reader is reading.
    const area = outputArea();
    // An element that appears or vanishes (zero height before or after) did not move: it
    // counts in Chromium's score, not in the largest move.
    let dy = 0, what = "", inside = false;
    for (const s of e.sources || []) {
      if (!area || !s.node || !area.contains(s.node)) continue;
      inside = true;
      if (!s.previousRect.height || !s.currentRect.height) continue;
      const moved = Math.abs(s.currentRect.y - s.previousRect.y);
      if (moved <= dy) continue;
      dy = moved;
      const el = s.node.nodeType === 1 ? s.node : s.node.parentElement;
      what = `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} `
        + `${Math.round(s.previousRect.y)}->${Math.round(s.currentRect.y)} h${Math.round(s.currentRect.height)}`;
    }
    if (inside) B.shifts.push([e.startTime, e.value, dy, what]);
  });
  const outputArea = () => {
    const cell = document.querySelectorAll(".jp-CodeCell")[B.cell];
    return cell && cell.querySelector(".jp-OutputArea");
  };
  const frame = (t) => { if (B.started) B.frames.push(t); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);

  const scanRendered = (area, now) => {
    for (const root of area.querySelectorAll(".jp-RenderedMarkdown, .chatnb-rendered")) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const found = node.data.match(MARK);
        if (!found) continue;
        const parent = node.parentElement;
        if (!parent || parent.closest(".chatnb-live-text")) continue;
        for (const m of found) {
          if (m in B.rendered || !(m in B.kinds)) continue;
          const block = parent.closest(KINDS[B.kinds[m]]);
          if (block && root.contains(block)) B.rendered[m] = fresh.rendered[m] = now;
        }
      }
    }
  };
  const sample = () => {
    if (!B.started) return;
    const start = performance.now();
    const now = performance.timeOrigin + start;
    const area = outputArea();
    if (area) {
      for (const m of area.textContent.match(MARK) || []) {
        if (!(m in B.seen)) B.seen[m] = fresh.seen[m] = now;
      }
      scanRendered(area, now);
    }
    if (performance.memory) B.heap = Math.max(B.heap, performance.memory.usedJSHeapSize);
    B.samples += 1;
    B.probeMs += performance.now() - start;
    report();
  };
  const report = () => {
    if (!window.__benchReport) return;
    const delta = {
      seen: fresh.seen, rendered: fresh.rendered, heap: B.heap, probeMs: B.probeMs,
      samples: B.samples, frames: B.frames.slice(sent.frames),
      longtasks: B.longtasks.slice(sent.longtasks), shifts: B.shifts.slice(sent.shifts),
      origin: performance.timeOrigin,
    };
    sent = { frames: B.frames.length, longtasks: B.longtasks.length, shifts: B.shifts.length };
    fresh = { seen: {}, rendered: {} };
    window.__benchReport(delta);
  };
  setInterval(sample, 100);
})();
