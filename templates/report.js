/* rightsizer report: sorting, filtering, expand/collapse and copy buttons.
   Reads everything from the DOM (no data is injected into this script), and every lookup
   tolerates a missing element so an empty report never throws. */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.className += " js";

  var table = doc.getElementById("findings-table");
  var bodies = table ? Array.prototype.slice.call(table.querySelectorAll("tbody.finding")) : [];
  var textBox = doc.getElementById("filter-text");
  var ruleBox = doc.getElementById("filter-rule");
  var severityBox = doc.getElementById("filter-severity");
  var countLabel = doc.getElementById("filter-count");
  var emptyNote = doc.getElementById("filter-empty");
  var toggleAll = doc.getElementById("toggle-all");

  // Without JS every row stays expanded (readable in any viewer); with JS start collapsed.
  function setOpen(body, open) {
    body.classList.toggle("open", open);
    var button = body.querySelector("button.expand");
    if (button) { button.setAttribute("aria-expanded", open ? "true" : "false"); }
  }
  bodies.forEach(function (body) { setOpen(body, false); });

  bodies.forEach(function (body) {
    var row = body.querySelector("tr.summary-row");
    if (!row) { return; }
    row.addEventListener("click", function (event) {
      // Let links and text selection inside the row behave normally.
      if (event.target.closest("a") || String(window.getSelection() || "")) { return; }
      setOpen(body, !body.classList.contains("open"));
    });
  });

  function visibleBodies() {
    return bodies.filter(function (body) { return !body.hidden; });
  }

  if (toggleAll) {
    toggleAll.addEventListener("click", function () {
      var anyClosed = visibleBodies().some(function (b) { return !b.classList.contains("open"); });
      visibleBodies().forEach(function (body) { setOpen(body, anyClosed); });
      toggleAll.textContent = anyClosed ? "Collapse all" : "Expand all";
    });
  }

  function applyFilters() {
    var text = textBox ? textBox.value.trim().toLowerCase() : "";
    var rule = ruleBox ? ruleBox.value : "";
    var severity = severityBox ? severityBox.value : "";
    var shown = 0;
    bodies.forEach(function (body) {
      var ok = (!rule || body.getAttribute("data-rule") === rule) &&
        (!severity || body.getAttribute("data-severity") === severity) &&
        (!text || (body.getAttribute("data-search") || "").indexOf(text) !== -1);
      body.hidden = !ok;
      if (ok) { shown += 1; }
    });
    if (countLabel) {
      countLabel.textContent = shown === bodies.length
        ? bodies.length + (bodies.length === 1 ? " finding" : " findings")
        : shown + " of " + bodies.length + " findings";
    }
    if (emptyNote) { emptyNote.hidden = shown !== 0 || bodies.length === 0; }
  }
  [textBox, ruleBox, severityBox].forEach(function (box) {
    if (box) { box.addEventListener("input", applyFilters); box.addEventListener("change", applyFilters); }
  });

  // Sorting moves whole <tbody> elements, so each finding keeps its detail row.
  function sortBy(header) {
    var key = header.getAttribute("data-sort");
    var numeric = header.getAttribute("data-type") === "number";
    var current = header.getAttribute("aria-sort");
    // Money columns start biggest-first; text columns start A-Z.
    var direction = current ? (current === "ascending" ? -1 : 1) : (numeric && key !== "severity" ? -1 : 1);
    Array.prototype.forEach.call(table.querySelectorAll("th[data-sort]"), function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
    var attr = "data-sort-" + key;
    var sorted = bodies.slice().sort(function (a, b) {
      var x = a.getAttribute(attr) || "", y = b.getAttribute(attr) || "";
      var cmp = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
      if (cmp === 0) {  // ties: biggest savings first, so the order never looks random
        cmp = (parseFloat(b.getAttribute("data-sort-savings")) || 0) -
              (parseFloat(a.getAttribute("data-sort-savings")) || 0);
        return cmp;
      }
      return cmp * direction;
    });
    sorted.forEach(function (body) { table.appendChild(body); });
  }
  if (table) {
    Array.prototype.forEach.call(table.querySelectorAll("th[data-sort] button"), function (button) {
      button.addEventListener("click", function () { sortBy(button.parentNode); });
    });
  }

  // "Top actions" links open and highlight their finding.
  Array.prototype.forEach.call(doc.querySelectorAll("a.finding-link"), function (link) {
    link.addEventListener("click", function () {
      var body = doc.getElementById("f-" + link.getAttribute("data-target"));
      if (!body) { return; }
      if (body.hidden) {
        [textBox, ruleBox, severityBox].forEach(function (box) { if (box) { box.value = ""; } });
        applyFilters();
      }
      setOpen(body, true);
      body.classList.add("flash");
      window.setTimeout(function () { body.classList.remove("flash"); }, 1600);
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
  Array.prototype.forEach.call(doc.querySelectorAll("button.copy"), function (button) {
    button.addEventListener("click", function (event) {
      event.stopPropagation();
      var block = button.closest(".command");
      var code = block ? block.querySelector("pre") : null;
      if (!code) { return; }
      copyText(code.textContent, function (ok) {
        button.textContent = ok ? "Copied" : "Select and copy";
        button.classList.toggle("copied", ok);
        window.setTimeout(function () { button.textContent = "Copy"; button.classList.remove("copied"); }, 1800);
      });
    });
  });

  // Printing shows every finding expanded (CSS does the rest); restore the view afterwards.
  var openBeforePrint = [];
  window.addEventListener("beforeprint", function () {
    openBeforePrint = bodies.filter(function (b) { return b.classList.contains("open"); });
    bodies.forEach(function (body) { setOpen(body, true); });
  });
  window.addEventListener("afterprint", function () {
    bodies.forEach(function (body) { setOpen(body, openBeforePrint.indexOf(body) !== -1); });
  });

  applyFilters();
  // Reached only if nothing above threw: tests and curious readers can check it.
  doc.documentElement.setAttribute("data-ready", "true");
}());
