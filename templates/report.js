/* rightsizer report: draws the findings table from the JSON in #findings-data (see
   rightsizer/outputs/html_data.py), a page of rows at a time, with search, filters, sorting,
   expand/collapse, copy buttons and report.html#f-<id> links.
   Every value goes into the page as text (textContent / setAttribute), never as markup, and
   every lookup tolerates a missing element so an empty report never throws. */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.className += " js";

  var PAGE = 50;         // rows drawn at a time
  var EAGER_DETAILS = 50; // up to this many findings, details are built up front (print shows them)
  var SVG = "http://www.w3.org/2000/svg";
  var table = doc.getElementById("findings-table");
  var dataNode = doc.getElementById("findings-data");
  var textBox = doc.getElementById("filter-text");
  var ruleBox = doc.getElementById("filter-rule");
  var severityBox = doc.getElementById("filter-severity");
  var countLabel = doc.getElementById("filter-count");
  var emptyNote = doc.getElementById("filter-empty");
  var toggleAll = doc.getElementById("toggle-all");
  var moreBox = doc.getElementById("findings-more");
  var moreButton = doc.getElementById("show-more");

  var data = { fields: [], strings: [""], rules: [], severities: [], rows: [] };
  if (dataNode) {
    try { data = JSON.parse(dataNode.textContent); } catch (e) { data.rows = []; }
  }
  var detailList = null;
  function details() {  // parsed on first use: opening the page needs only the rows
    if (!detailList) {
      var node = doc.getElementById("findings-details");
      try { detailList = node ? JSON.parse(node.textContent) : []; } catch (e) { detailList = []; }
    }
    return detailList;
  }
  var S = data.strings, F = {};
  data.fields.forEach(function (name, index) { F[name] = index; });
  var rows = data.rows;
  var STATUS = ["", "new", "persisting"];
  var dollars = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var counts = new Intl.NumberFormat("en-US");

  function money(value) {
    if (value === null || value === undefined) { return "\u2014"; }
    return (value < 0 ? "-$" : "$") + dollars.format(Math.abs(value));
  }
  function plural(n, word) { return counts.format(n) + " " + word + (n === 1 ? "" : "s"); }
  function resourceId(row) {
    var r = row[F.resource];
    return typeof r === "number" ? S[r] + row[F.name] : r;
  }
  function rule(row) { return data.rules[row[F.rule]] || { id: "", title: "", why: "" }; }

  function el(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function chip(className, text) { return el("span", "chip " + className, text); }

  // --- search, filter, sort: over the data, not the DOM ---------------------------------------
  var searchText = null;
  function searchIndex() {
    if (searchText) { return searchText; }
    var all = details();
    searchText = rows.map(function (row) {
      var detail = row[F.detail] >= 0 ? all[row[F.detail]] : null;
      return [row[F.id], row[F.name], resourceId(row), S[row[F.account]], S[row[F.region]],
        rule(row).id, S[row[F.current]], S[row[F.recommended]], detail ? detail.reason : ""]
        .join(" ").toLowerCase();
    });
    return searchText;
  }

  var sortKey = "savings", sortDirection = -1;
  var order = rows.map(function (_, i) { return i; });  // the data comes largest saving first
  var SORT_VALUES = {
    rule: function (row) { return rule(row).id; },
    severity: function (row) { return row[F.severity]; },
    name: function (row) { return String(row[F.name]).toLowerCase(); },
    region: function (row) { return S[row[F.region]]; },
    cost: function (row) { return row[F.cost] === null ? -Infinity : row[F.cost]; },
    savings: function (row) { return row[F.savings] === null ? -Infinity : row[F.savings]; }
  };
  function sortRows() {
    var value = SORT_VALUES[sortKey];
    var keys = rows.map(value);
    var savings = rows.map(SORT_VALUES.savings);
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      var cmp = typeof x === "number" ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      if (cmp === 0) { return (savings[b] - savings[a]) || (a - b); } // ties: biggest saving first
      return cmp * sortDirection;
    });
  }

  function filters() {
    return {
      text: textBox ? textBox.value.trim().toLowerCase() : "",
      rule: ruleBox ? ruleBox.value : "",
      severity: severityBox ? severityBox.value : ""
    };
  }
  function matches(f, ignoreChoices) {
    var index = f.text ? searchIndex() : null;
    var ruleIndex = -1, severityIndex = -1;
    if (!ignoreChoices) {
      data.rules.forEach(function (r, i) { if (r.id === f.rule) { ruleIndex = i; } });
      severityIndex = data.severities.indexOf(f.severity);
    }
    return order.filter(function (i) {
      var row = rows[i];
      if (!ignoreChoices && f.rule && row[F.rule] !== ruleIndex) { return false; }
      if (!ignoreChoices && f.severity && row[F.severity] !== severityIndex) { return false; }
      return !index || index[i].indexOf(f.text) !== -1;
    });
  }

  // --- drawing rows ---------------------------------------------------------------------------
  var shown = [];   // indices (into rows) matching the filters, in display order
  var drawn = 0;    // how many of them have a <tbody>
  var bodies = {};  // row index -> its <tbody>

  function rowBody(i) {
    var row = rows[i], r = rule(row), status = STATUS[row[F.status]] || "";
    var body = el("tbody", "finding");
    body.id = "f-" + row[F.id];
    body.setAttribute("data-id", row[F.id]);
    body.setAttribute("data-rule", r.id);
    body.setAttribute("data-severity", data.severities[row[F.severity]] || "");
    body.setAttribute("data-status", status);
    body.setAttribute("data-index", i);
    var tr = add(body, el("tr", "summary-row"));
    var toggle = add(add(tr, el("td", "col-toggle")), el("button", "expand"));
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    toggle.title = "Show details";
    add(toggle, el("span", null, "\u25b8")).setAttribute("aria-hidden", "true");
    add(toggle, el("span", "sr-only", "Details for " + row[F.name]));
    add(add(tr, el("td", "c-rule")), el("span", "rule-id", r.id));
    add(add(tr, el("td", "c-sev")), chip("sev-" + body.getAttribute("data-severity"),
      body.getAttribute("data-severity")));
    var name = add(tr, el("td", "name-cell"));
    add(name, el("span", "res-name", row[F.name]));
    var sub = add(name, el("span", "res-sub", S[row[F.account]]));
    if (status === "new") {
      add(sub, chip("chip-new", "NEW")).title = "Not in last month's report";
    } else if (status === "persisting") {
      add(sub, chip("chip-old", "since " + S[row[F.since]])).title =
        "In every report since " + S[row[F.since]] + ": still open";
    }
    add(tr, el("td", "nowrap c-region", S[row[F.region]]));
    var change = add(tr, el("td", "change"));
    add(change, el("span", "from", S[row[F.current]]));
    change.appendChild(doc.createTextNode(" "));
    add(change, el("span", "arrow", "\u2192")).setAttribute("aria-hidden", "true");
    change.appendChild(doc.createTextNode(" "));
    add(change, el("span", "to", S[row[F.recommended]]));
    add(tr, el("td", "num c-cost", money(row[F.cost]))).setAttribute("data-label", "now");
    add(tr, el("td", "num savings", money(row[F.savings])));
    if (rows.length <= EAGER_DETAILS) { detailRow(body); }
    bodies[i] = body;
    return body;
  }

  function detailRow(body) {
    var existing = body.querySelector("tr.detail-row");
    if (existing) { return existing; }
    var i = Number(body.getAttribute("data-index")), row = rows[i], r = rule(row);
    var tr = add(body, el("tr", "detail-row"));
    add(tr, el("td", "col-toggle"));
    var cell = add(tr, el("td"));
    cell.colSpan = 7;
    var box = add(cell, el("div", "detail"));
    var detail = row[F.detail] >= 0 ? details()[row[F.detail]] : null;
    if (detail) { add(box, el("p", "reason", detail.reason)); }
    if (r.why) {
      var why = add(box, el("p", "why"));
      add(why, el("strong", null, r.title + "."));
      why.appendChild(doc.createTextNode(" " + r.why));
    }
    var arn = add(box, el("p", "arn"));
    add(arn, el("span", "muted", S[row[F.resource_type]]));
    arn.appendChild(doc.createTextNode(" "));
    add(arn, el("code", null, resourceId(row)));
    if (!detail) {
      add(box, el("p", "no-detail muted", "The evidence and commands for this finding are in " +
        "report.json and findings.csv (rightsizer analyze --format csv), finding id " + row[F.id] +
        ": this page carries them for the " + counts.format(data.details_per_rule) +
        " largest findings of each rule."));
      return tr;
    }
    var grid = add(box, el("div", "detail-grid"));
    var left = add(grid, el("div", "facts-box"));
    if (detail.facts && detail.facts.length) {
      add(left, el("h3", null, "Key facts"));
      var list = add(left, el("ul", "facts"));
      detail.facts.forEach(function (fact) { add(list, el("li", null, fact)); });
    }
    if (detail.pricing) { add(left, el("p", "pricing muted", detail.pricing)); }
    if (detail.evidence && detail.evidence.length) {
      var fold = add(left, el("details", "evidence-all"));
      add(fold, el("summary", null, "All evidence (" + plural(detail.evidence.length, "value") + ")"));
      var dl = add(fold, el("dl", "evidence"));
      detail.evidence.forEach(function (pair) {
        add(dl, el("dt", null, pair[0]));
        add(dl, el("dd", null, pair[1]));
      });
    }
    if (detail.charts && detail.charts.length) {
      var charts = add(grid, el("div", "charts"));
      detail.charts.forEach(function (chart) { add(charts, utilizationChart(chart)); });
      var key = add(charts, el("p", "chart-key muted"));
      add(key, el("span", "key-bar"));
      key.appendChild(doc.createTextNode(" daily peak "));
      add(key, el("span", "key-line"));
      key.appendChild(doc.createTextNode(" current size "));
      add(key, el("span", "key-dash"));
      key.appendChild(doc.createTextNode(" recommended"));
    }
    if (detail.commands && detail.commands.length) {
      add(box, el("h3", null, "How to apply"));
      detail.commands.forEach(function (command) {
        var block = add(box, el("div", "command"));
        block.setAttribute("data-tool", command[0]);
        var head = add(block, el("div", "command-head"));
        add(head, el("span", null, command[1]));
        var copy = add(head, el("button", "btn btn-small copy no-print", "Copy"));
        copy.type = "button";
        add(add(block, el("pre")), el("code", null, command[2]));
      });
    }
    return tr;
  }

  function svg(parent, tag, attrs, text) {
    var node = doc.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    parent.appendChild(node);
    return node;
  }
  function utilizationChart(c) {
    var figure = el("figure", "util-chart");
    var caption = add(figure, el("figcaption", null, c.title + " "));
    add(caption, el("span", "muted", "\u00b7 " + c.days + " days \u00b7 peak " + c.peak));
    var root = doc.createElementNS(SVG, "svg");
    root.setAttribute("viewBox", "0 0 " + c.width + " " + c.height);
    root.setAttribute("role", "img");
    root.setAttribute("aria-label", c.title);
    figure.appendChild(root);
    c.ticks.forEach(function (t) {
      svg(root, "line", { "class": "grid", x1: c.left, x2: c.right, y1: t.y, y2: t.y });
      svg(root, "text", { "class": "axis", x: c.left - 5, y: t.y + 3, "text-anchor": "end" }, t.label);
    });
    c.bars.forEach(function (b) {
      var rect = svg(root, "rect", { "class": "day" + (b.over ? " over" : ""), x: b.x, y: b.y,
        width: b.w, height: b.h, rx: 1 });
      svg(rect, "title", {}, b.title);
    });
    c.lines.forEach(function (l) {
      svg(root, "line", { "class": "ref ref-" + l.kind, x1: c.left, x2: c.right, y1: l.y, y2: l.y });
      svg(root, "text", { "class": "ref-label ref-" + l.kind, x: l.x, y: l.y - 3,
        "text-anchor": l.anchor }, l.label);
    });
    svg(root, "line", { "class": "baseline", x1: c.left, x2: c.right, y1: c.baseline, y2: c.baseline });
    svg(root, "text", { "class": "axis", x: c.left, y: c.height - 5 }, "day 1");
    svg(root, "text", { "class": "axis", x: c.right, y: c.height - 5, "text-anchor": "end" }, "day " + c.days);
    return figure;
  }

  function setOpen(body, open) {
    if (open) { detailRow(body); }
    body.classList.toggle("open", open);
    var button = body.querySelector("button.expand");
    if (button) { button.setAttribute("aria-expanded", open ? "true" : "false"); }
  }

  function drawMore(count) {
    if (!table) { return; }
    var fragment = doc.createDocumentFragment();
    var end = Math.min(shown.length, drawn + count);
    for (; drawn < end; drawn += 1) {
      var i = shown[drawn];
      fragment.appendChild(bodies[i] || rowBody(i));
    }
    table.appendChild(fragment);
    updateMore();
  }

  function updateMore() {
    if (moreBox) { moreBox.hidden = drawn >= shown.length; }
    if (moreButton) {
      var next = Math.min(PAGE, shown.length - drawn);
      moreButton.textContent = "Show " + counts.format(next) + " more";
    }
    var note = doc.getElementById("shown-count");
    if (note) { note.textContent = counts.format(drawn) + " of " + counts.format(shown.length) + " shown"; }
  }

  function redraw() {
    if (!table) { return; }
    var f = filters();
    shown = matches(f, false);
    Array.prototype.slice.call(table.tBodies).forEach(function (b) { table.removeChild(b); });
    drawn = 0;
    drawMore(PAGE);
    if (countLabel) {
      countLabel.textContent = shown.length === rows.length ? plural(rows.length, "finding")
        : counts.format(shown.length) + " of " + plural(rows.length, "finding");
    }
    if (emptyNote) { explainEmpty(f); }
    if (toggleAll) { toggleAll.textContent = "Expand all"; }
  }

  // An empty result says where the findings are: every finding is in the data, so the other
  // filters are the usual reason.
  function explainEmpty(f) {
    emptyNote.hidden = shown.length !== 0 || rows.length === 0;
    if (emptyNote.hidden) { return; }
    emptyNote.textContent = "";
    add(emptyNote, el("strong", null, "No findings match these filters. "));
    var elsewhere = f.text && (f.rule || f.severity) ? matches(f, true).length : 0;
    if (elsewhere) {
      emptyNote.appendChild(doc.createTextNode(plural(elsewhere, "finding") +
        (elsewhere === 1 ? " matches" : " match") + " \u201c" +
        f.text + "\u201d under another rule or severity. "));
      var clear = add(emptyNote, el("button", "btn btn-small", "Show them"));
      clear.type = "button";
      clear.addEventListener("click", function () {
        if (ruleBox) { ruleBox.value = ""; }
        if (severityBox) { severityBox.value = ""; }
        redraw();
      });
    } else {
      emptyNote.appendChild(doc.createTextNode("This list holds every one of the report's " +
        plural(rows.length, "finding") + " (as report.json and findings.csv do): search by name, " +
        "ARN, account, region, rule or finding id."));
    }
  }

  [textBox, ruleBox, severityBox].forEach(function (box) {
    if (box) { box.addEventListener("input", redraw); box.addEventListener("change", redraw); }
  });
  if (moreButton) { moreButton.addEventListener("click", function () { drawMore(PAGE); }); }
  // Scrolling to the end of the list draws the next page.
  if (moreBox && window.IntersectionObserver) {
    new IntersectionObserver(function (entries) {
      if (entries[0].isIntersecting && drawn < shown.length && drawn > 0) { drawMore(PAGE); }
    }, { rootMargin: "400px" }).observe(moreBox);
  }

  if (table) {
    table.addEventListener("click", function (event) {
      var target = event.target;
      var copy = target.closest("button.copy");
      if (copy) { copyCommand(copy); return; }
      var row = target.closest("tr.summary-row");
      // Let links and text selection inside the row behave normally.
      if (!row || target.closest("a") || String(window.getSelection() || "")) { return; }
      var body = row.parentNode;
      setOpen(body, !body.classList.contains("open"));
    });
    Array.prototype.forEach.call(table.querySelectorAll("th[data-sort] button"), function (button) {
      button.addEventListener("click", function () {
        var header = button.parentNode, key = header.getAttribute("data-sort");
        var numeric = header.getAttribute("data-type") === "number";
        var current = header.getAttribute("aria-sort");
        // Money columns start biggest-first; text columns (and severity: high first) A-Z.
        sortDirection = current ? (current === "ascending" ? -1 : 1)
          : (numeric && key !== "severity" ? -1 : 1);
        sortKey = key;
        Array.prototype.forEach.call(table.querySelectorAll("th[data-sort]"), function (th) {
          th.removeAttribute("aria-sort");
        });
        header.setAttribute("aria-sort", sortDirection === 1 ? "ascending" : "descending");
        sortRows();
        redraw();
      });
    });
  }

  if (toggleAll) {
    toggleAll.addEventListener("click", function () {
      var drawnBodies = Array.prototype.slice.call(table.tBodies);
      var anyClosed = drawnBodies.some(function (b) { return !b.classList.contains("open"); });
      drawnBodies.forEach(function (body) { setOpen(body, anyClosed); });
      toggleAll.textContent = anyClosed ? "Collapse all" : "Expand all";
    });
  }

  // report.html#f-<id> (and the Top actions links) open that finding, wherever it is.
  function openFromHash() {
    var match = /^#f-(.+)$/.exec(window.location.hash || "");
    if (!match || !table) { return; }
    var id = decodeURIComponent(match[1]), index = -1;
    rows.some(function (row, i) { if (row[F.id] === id) { index = i; return true; } return false; });
    if (index < 0) { return; }
    var position = shown.indexOf(index);
    if (position < 0 || position >= drawn + PAGE) {
      // hidden by a filter, or far down the list: show just this finding (clearing the search
      // box shows them all again)
      if (ruleBox) { ruleBox.value = ""; }
      if (severityBox) { severityBox.value = ""; }
      if (textBox) { textBox.value = id; }
      redraw();
    } else if (position >= drawn) {
      drawMore(position - drawn + 1);
    }
    var body = bodies[index];
    setOpen(body, true);
    body.scrollIntoView({ block: "start" });
    body.classList.add("flash");
    window.setTimeout(function () { body.classList.remove("flash"); }, 1600);
  }
  window.addEventListener("hashchange", openFromHash);
  Array.prototype.forEach.call(doc.querySelectorAll("a.finding-link"), function (link) {
    link.addEventListener("click", function (event) {
      if (window.location.hash === link.getAttribute("href")) { event.preventDefault(); openFromHash(); }
    });
  });

  function copyText(text, done) {
    function fallback() {
      var area = doc.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      doc.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
      doc.body.removeChild(area);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }
  function copyCommand(button) {
    var block = button.closest(".command");
    var code = block ? block.querySelector("pre") : null;
    if (!code) { return; }
    copyText(code.textContent, function (ok) {
      button.textContent = ok ? "Copied" : "Select and copy";
      button.classList.toggle("copied", ok);
      window.setTimeout(function () { button.textContent = "Copy"; button.classList.remove("copied"); }, 1800);
    });
  }

  // Printing shows every drawn finding expanded (CSS does the rest); restore the view afterwards.
  var openBeforePrint = [];
  window.addEventListener("beforeprint", function () {
    var drawnBodies = Array.prototype.slice.call(table ? table.tBodies : []);
    openBeforePrint = drawnBodies.filter(function (b) { return b.classList.contains("open"); });
    drawnBodies.forEach(function (body) { setOpen(body, true); });
  });
  window.addEventListener("afterprint", function () {
    Array.prototype.slice.call(table ? table.tBodies : []).forEach(function (body) {
      setOpen(body, openBeforePrint.indexOf(body) !== -1);
    });
  });

  redraw();
  openFromHash();
  // The search index is built once the page is up, so the first search is as quick as the next.
  window.setTimeout(searchIndex, 0);
  // Reached only if nothing above threw: tests and curious readers can check it.
  doc.documentElement.setAttribute("data-ready", "true");
}());
