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

  // Forms that ask before they submit (deleting a record).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

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
