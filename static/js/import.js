/* Import an inspection sheet (/import): upload → the server keeps the file under a random
   token and answers with a preview (every row's assignment, every bad row with its line) →
   confirm imports it all in one transaction.  Values go into the page with textContent. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("import-config").textContent);
  var L_ = cfg.labels;
  var statusLine = document.getElementById("import-status");
  var current = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function status(text, isError) {
    statusLine.textContent = text || "";
    statusLine.classList.toggle("error", !!isError);
  }
  var send = window.GeoappHttp.send;
  var format = window.GeoappHttp.fill;

  function render(p) {
    current = p;
    var s = p.summary;
    document.getElementById("preview-summary").textContent = format(L_.summary, {
      new: s.new, assigned: s.assigned, unassigned: s.unassigned_outside_county,
      bad: s.bad_rows, stored: s.already_in_store
    }) + " " + L_.nothing_yet;
    var bad = document.getElementById("bad-rows");
    bad.textContent = "";
    p.bad.forEach(function (b) {
      var tr = el("tr");
      tr.appendChild(el("td", b.line_text || b.line));
      tr.appendChild(el("td", b.reason_text || b.reason));
      bad.appendChild(tr);
    });
    document.getElementById("bad-section").hidden = p.bad.length === 0;
    document.getElementById("skip-label").hidden = p.bad.length === 0;
    var rows = document.getElementById("new-rows");
    rows.textContent = "";
    p.rows.forEach(function (r) {
      var tr = el("tr", null, r.assigned ? "" : "unassigned");
      tr.appendChild(el("td", r.line_text || r.line));
      tr.appendChild(el("td", r.problem_id || ""));
      tr.appendChild(el("td", r.category_label));
      tr.appendChild(el("td", r.round));
      tr.appendChild(el("td", r.deduction, "num"));
      if (r.assigned) {
        tr.appendChild(el("td", r.area_name));
        tr.appendChild(el("td", r.district_name));
        tr.appendChild(el("td", r.responsible_unit_name));
        tr.appendChild(el("td", r.lead_unit_name));
        tr.appendChild(el("td", r.rule_id || ""));
      } else {
        var td = el("td", L_.unassigned, "outside");
        td.colSpan = 5;
        tr.appendChild(td);
      }
      tr.appendChild(el("td", r.likely_duplicates.map(function (d) {
        var place = d.kind === "row" ? d.label_text || d.label : format(L_.problem_n, { id: d.label });
        return format(L_.duplicate_at, { place: place, distance: d.distance_m });
      }).join("; "), r.likely_duplicates.length ? "dup-warning" : ""));
      rows.appendChild(tr);
    });
    document.getElementById("preview").hidden = false;
    document.getElementById("confirm-button").disabled = false;
    document.body.setAttribute("data-preview", String(p.rows.length));
  }

  document.getElementById("import-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var file = document.getElementById("file").files[0];
    if (!file) return;
    var fd = new FormData();
    fd.append("file", file, file.name);
    fd.append("crs", document.getElementById("crs").value);
    status(L_.saving);
    send(cfg.urls.preview, { method: "POST", body: fd }).then(function (p) {
      status("");
      render(p);
    }).catch(function (err) { status(format(L_.failed_because, { error: err.message }), true); });
  });

  document.getElementById("confirm-button").addEventListener("click", function () {
    if (!current) return;
    var skip = document.getElementById("skip-bad").checked;
    if (current.bad.length && !skip) { status(L_.bad_rows_block, true); return; }
    var button = document.getElementById("confirm-button");
    button.disabled = true;
    send(current.confirm, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ skip_bad: skip })
    }).then(function (r) {
      status(format(L_.imported_n, { count: r.imported }));
      document.body.setAttribute("data-imported", String(r.imported));
    }).catch(function (err) {
      button.disabled = false;
      status(format(L_.failed_because, { error: err.message }), true);
    });
  });
})();
