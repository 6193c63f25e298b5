// CRM UI behaviour. Loaded from the server's own origin (the Content-Security-Policy forbids inline
// scripts); everything here is progressive: every page works without it.
(function () {
  "use strict";

  // The browser's time zone, so dates and "today" in filters are the user's.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("crm_tz=" + encodeURIComponent(tz)) < 0) {
      document.cookie = "crm_tz=" + encodeURIComponent(tz) + "; path=/; SameSite=Lax; max-age=31536000";
    }
  } catch (e) { /* no Intl: the server's zone is used */ }

  // Buttons that remove the element around them (a filter condition).
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-remove]");
    if (!b) { return; }
    var row = b.closest(b.getAttribute("data-remove"));
    if (row) {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      var f = next && next.querySelector("select, input, button");
      if (f) { f.focus(); }
    }
  });

  // The dashboard editor: a widget shows the inputs of its kind only
  // (data-widget lists the kinds an input is for); the server reads no
  // other.
  function widgetInputs(sel) {
    var box = sel.closest("fieldset");
    if (!box) { return; }
    box.querySelectorAll("[data-widget]").forEach(function (f) {
      f.hidden = f.getAttribute("data-widget").split(" ").indexOf(sel.value) < 0;
    });
  }
  document.querySelectorAll("[data-widget-type]").forEach(widgetInputs);
  document.addEventListener("change", function (ev) {
    if (ev.target.matches("[data-widget-type]")) { widgetInputs(ev.target); }
  });

  // A list's "select all" checkbox: every record's checkbox of its form
  // (data-select-all names the form) follows it.
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest("[data-select-all]");
    if (!all) { return; }
    document.querySelectorAll('input[type=checkbox][form="' + all.getAttribute("data-select-all") + '"]').forEach(function (b) {
      b.checked = all.checked;
    });
  });

  // Forms, or their buttons, that ask before they submit (deleting a
  // record, sending a mailing).
  document.addEventListener("submit", function (ev) {
    var msg = (ev.submitter && ev.submitter.getAttribute("data-confirm")) || ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

  // Kanban: dragging a card onto a column submits the card's move form
  // (the form itself is the keyboard's way to move it). While a card is
  // dragged, the columns it may not go to (data-allowed: the state
  // workflow's transitions and the user's rights, from the server) are
  // greyed with the reason, and refuse the drop.
  var dragged = null;
  var allowed = [];
  function columns() { return document.querySelectorAll("[data-drop-value]"); }
  function open(col) { return col && allowed.indexOf(col.getAttribute("data-drop-value")) >= 0; }
  function clear() {
    dragged = null;
    allowed = [];
    columns().forEach(function (c) { c.classList.remove("no-drop", "may-drop"); });
  }
  document.addEventListener("dragstart", function (ev) {
    var card = ev.target.closest && ev.target.closest("[data-card]");
    if (!card) { return; }
    dragged = card;
    try { allowed = JSON.parse(card.getAttribute("data-allowed") || "[]"); } catch (e) { allowed = []; }
    var home = card.closest("[data-drop-value]");
    columns().forEach(function (c) {
      if (c !== home) { c.classList.add(open(c) ? "may-drop" : "no-drop"); }
    });
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", card.getAttribute("data-card"));
  });
  document.addEventListener("dragover", function (ev) {
    if (dragged && open(ev.target.closest && ev.target.closest("[data-drop-value]"))) { ev.preventDefault(); }
  });
  document.addEventListener("drop", function (ev) {
    var col = ev.target.closest && ev.target.closest("[data-drop-value]");
    if (!dragged || !open(col)) { clear(); return; }
    ev.preventDefault();
    var form = dragged.querySelector("form.move");
    var to = col.getAttribute("data-drop-value");
    clear();
    if (form && form.elements.to.value !== to) {
      form.elements.to.value = to;
      form.submit();
    }
  });
  document.addEventListener("dragend", clear);

  // htmx requests: a new filter row gets the next free index.
  document.addEventListener("htmx:configRequest", function (ev) {
    var elt = ev.detail.elt;
    var from = elt && elt.getAttribute && elt.getAttribute("data-count-from");
    if (from) {
      var box = document.querySelector(from);
      var n = 0;
      if (box) {
        box.querySelectorAll("[name=ff]").forEach(function (s) {
          var i = parseInt((s.id || "").replace("ff", ""), 10);
          if (!isNaN(i) && i >= n) { n = i + 1; }
        });
      }
      ev.detail.parameters.i = String(n);
    }
  });
})();
