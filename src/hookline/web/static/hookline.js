// Hookline UI: small enhancements over pages that work without JavaScript.
// Copy buttons, confirmation dialogs, client-side sorting and filtering of
// tables, and closing of <details> menus with Escape or a click elsewhere.
(function () {
  "use strict";

  function announce(text) {
    var live = document.getElementById("live-status");
    if (live) {
      live.textContent = "";
      window.setTimeout(function () { live.textContent = text; }, 50);
    }
  }

  // Copy buttons: hidden until this script runs, since they need it.
  function copyFrom(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var done = function () {
      button.textContent = "Copied";
      announce("Copied to the clipboard");
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    var fallback = function () {
      field.focus();
      field.select();
      try { document.execCommand("copy"); done(); } catch (e) { announce("Select the text and copy it"); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copyFrom(button); });
    });
  }

  // Destructive forms: ask here, and tell the server it was confirmed;
  // without this script the server asks on a page of its own.
  function setUpConfirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
          return;
        }
        if (!form.querySelector("input[name=confirm]")) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = "confirm";
          input.value = "yes";
          form.appendChild(input);
        }
      });
    });
  }

  // Sorting tables that hold all their rows, on their own page.
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortTable(table, header) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = headers.indexOf(header);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = r1.cells[index].getAttribute("data-sort-value") || r1.cells[index].textContent.trim();
      var b = r2.cells[index].getAttribute("data-sort-value") || r2.cells[index].textContent.trim();
      return ascending ? compare(a, b) : compare(b, a);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (th) {
      if (th.hasAttribute("aria-sort")) { th.setAttribute("aria-sort", "none"); }
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    // A search sent to the server afterwards keeps this order.
    var search = document.querySelector("input[data-filter-table='" + table.id + "']");
    if (header.querySelector("a.sort-link") && search && search.form && search.form.elements.sort) {
      search.form.elements.sort.value = (ascending ? "" : "-") + header.getAttribute("data-sort-key");
    }
    announce("Sorted by " + header.textContent.trim() + (ascending ? ", ascending" : ", descending"));
  }

  function setUpSorting() {
    document.querySelectorAll("table[data-sortable=client]").forEach(function (table) {
      table.querySelectorAll("th[data-sort-key]").forEach(function (header) {
        var control = header.querySelector("a.sort-link");
        if (!control) {
          control = document.createElement("button");
          control.type = "button";
          control.className = "sort-button";
          control.textContent = header.textContent.trim();
          var mark = document.createElement("span");
          mark.className = "sort-mark";
          mark.setAttribute("aria-hidden", "true");
          control.appendChild(mark);
          header.textContent = "";
          header.appendChild(control);
        }
        control.addEventListener("click", function (event) {
          event.preventDefault();
          sortTable(table, header);
        });
      });
    });
  }

  // Filtering rows as one types; submitting the form filters on the server.
  function setUpFilters() {
    document.querySelectorAll("input[data-filter-table]").forEach(function (input) {
      var id = input.getAttribute("data-filter-table");
      var table = document.getElementById(id);
      var empty = document.querySelector("[data-filter-empty='" + id + "']");
      if (!table) { return; }
      input.addEventListener("input", function () {
        var needle = input.value.trim().toLowerCase();
        var shown = 0;
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          var match = row.textContent.toLowerCase().indexOf(needle) !== -1;
          row.hidden = !match;
          if (match) { shown += 1; }
        });
        if (empty) { empty.hidden = shown !== 0; }
      });
    });
  }

  // <details> menus: Escape closes and returns focus; a click outside closes.
  function setUpMenus() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
      });
    });
    document.addEventListener("click", function (event) {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        if (!menu.contains(event.target)) { menu.open = false; }
      });
    });
  }

  // The webhook form: event boxes are inactive under "All events"; the
  // batch size is inactive with ordered delivery (one event per request);
  // the batching hint names the chosen format.
  function setUpWebhookForm() {
    var form = document.querySelector("form [name=eventsMode]");
    form = form && form.form;
    if (!form) { return; }
    var boxes = form.querySelectorAll("input[name=events]");
    var ordered = form.elements.ordered;
    var batch = form.elements.maxEventsPerRequest;
    var hint = document.getElementById("maxEventsPerRequest-hint");
    function sync() {
      var all = form.querySelector("input[name=eventsMode][value=all]");
      Array.prototype.forEach.call(boxes, function (box) { box.disabled = all.checked; });
      if (ordered && batch) {
        batch.disabled = ordered.checked;
      }
      var format = form.querySelector("input[name=mtype]:checked");
      if (hint && format) {
        var list = format.value === "application/transit+json" ? "a Transit list" : "a JSON array";
        hint.textContent = hint.textContent.replace(/a (JSON array|Transit list)/, list);
      }
    }
    form.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpWebhookForm();
    setUpCopyButtons();
    setUpConfirmations();
    setUpSorting();
    setUpFilters();
    setUpMenus();
  });
}());
