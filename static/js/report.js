/* The report form (/report): place a point by clicking the small map or by typing its
   coordinates (in WGS84, GCJ-02 or BD-09), fill the form, save with fetch(), attach the
   photos, then show the assignment the server made.  Every value from the server is put
   in the page with textContent. */
(function () {
  "use strict";

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  var send = window.GeoappHttp.send;

  function query(params) {
    return "?" + Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }

  function row(tbody, label, value, cls) {
    var tr = el("tr");
    tr.appendChild(el("th", label));
    var td = el("td", value === null || value === undefined || value === "" ? "—" : value);
    if (cls) td.className = cls;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }

  window.ReportPage = function (map, cfg) {
    var L_ = cfg.labels;
    var form = document.getElementById("report-form");
    var lonInput = document.getElementById("lon");
    var latInput = document.getElementById("lat");
    var crsSelect = document.getElementById("crs");
    var where = document.getElementById("where");
    var statusLine = document.getElementById("form-status");
    var marker = null;

    // thin outlines of the contracted areas, for orientation
    send(cfg.urls.areas + query({ simplify: 2 })).then(function (fc) {
      L.geoJSON(fc, { interactive: false, style: { color: "#556", weight: 0.7, fillOpacity: 0 } }).addTo(map);
      document.body.setAttribute("data-areas-ready", "1");
    }).catch(function (err) { status(err.message, true); });

    function status(text, isError) {
      statusLine.textContent = text || "";
      statusLine.classList.toggle("error", !!isError);
    }

    function showWhere(d) {
      where.textContent = "";
      if (!d.area) {
        where.appendChild(el("span", L_.outside, "outside"));
        return;
      }
      where.appendChild(el("span", L_.area_colon + d.area.name));
      where.appendChild(el("br"));
      where.appendChild(el("span", L_.responsible_colon + ((d.responsible_unit || {}).name || "—")));
    }

    function place(lon, lat, crs) {
      return send(cfg.urls.lookup + query({ lon: lon, lat: lat, crs: crs })).then(function (d) {
        var latlng = [d.lat, d.lon];
        if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng, { title: "report" }).addTo(map);
        showWhere(d);
        document.body.setAttribute("data-point-placed", "1");
        return d;
      });
    }

    map.on("click", function (e) {
      var crs = cfg.display_crs || "wgs84";
      lonInput.value = e.latlng.lng.toFixed(7);
      latInput.value = e.latlng.lat.toFixed(7);
      crsSelect.value = crs;
      place(lonInput.value, latInput.value, crs).catch(function (err) { status(err.message, true); });
    });

    document.getElementById("place").addEventListener("click", function () {
      if (!lonInput.value || !latInput.value) { status(L_.click_map, true); return; }
      place(lonInput.value.trim(), latInput.value.trim(), crsSelect.value).then(function (d) {
        map.setView([d.lat, d.lon], Math.max(map.getZoom(), 16));
        status("");
      }).catch(function (err) { status(err.message, true); });
    });

    function uploadPhotos(id) {
      var files = Array.prototype.slice.call(document.getElementById("photos").files || []);
      var done = 0;
      return files.reduce(function (chain, file) {
        return chain.then(function () {
          var fd = new FormData();
          fd.append("photo", file, file.name);
          return send(cfg.urls.photos.replace("__ID__", id), { method: "POST", body: fd }).then(function () { done++; });
        });
      }, Promise.resolve()).then(function () { return done; });
    }

    function showResult(detail, photos) {
      var a = detail.assignment;
      var tbody = document.getElementById("result-table");
      tbody.textContent = "";
      if (!a.assigned) {
        var tr = el("tr");
        var td = el("td", L_.outside, "outside");
        td.colSpan = 2;
        tr.appendChild(td);
        tbody.appendChild(tr);
      } else {
        row(tbody, L_.area, a.area.name, "area-name");
        row(tbody, L_.district, a.district && a.district.name, "district-name");
        row(tbody, L_.responsible, a.responsible_unit && a.responsible_unit.name, "responsible-unit");
        row(tbody, L_.lead, a.lead_unit && a.lead_unit.name, "lead-unit");
        row(tbody, L_.rule, a.rule ? (a.rule.id + " " + (a.rule.note || "")) : L_.no_rule, "rule");
      }
      row(tbody, L_.generation, a.generation);
      if (photos) row(tbody, L_.photos_uploaded, photos);
      var dups = document.getElementById("result-dups");
      dups.textContent = "";
      if (detail.likely_duplicates && detail.likely_duplicates.length) {
        dups.appendChild(el("p", L_.duplicate_hint, "dup-warning"));
        var ul = el("ul");
        detail.likely_duplicates.forEach(function (x) {
          var li = el("li");
          var link = el("a", x.problem_id);
          link.href = cfg.urls.page.replace("__ID__", encodeURIComponent(x.id));
          li.appendChild(link);
          li.appendChild(el("span", " · " + window.GeoappHttp.fill(L_.distance_m, { distance: x.distance_m }) + " "));
          var b = el("button", L_.link);
          b.type = "button";
          b.addEventListener("click", function () {
            send(cfg.urls.duplicate.replace("__ID__", detail.problem.id), {
              method: "PUT", headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ duplicate_of: x.id })
            }).then(function () { b.disabled = true; b.textContent = L_.saved; })
              .catch(function (err) { status(err.message, true); });
          });
          li.appendChild(b);
          ul.appendChild(li);
        });
        dups.appendChild(ul);
      }
      var link = document.getElementById("result-link");
      link.href = detail.links.page;
      var result = document.getElementById("result");
      result.hidden = false;
      result.scrollIntoView({ block: "nearest" });
      document.body.setAttribute("data-saved", String(detail.problem.id));
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {
        lon: lonInput.value.trim() === "" ? null : Number(lonInput.value),
        lat: latInput.value.trim() === "" ? null : Number(latInput.value),
        crs: crsSelect.value,
        category: document.getElementById("category").value || null,
        round: document.getElementById("round").value,
        deduction: document.getElementById("deduction").value === "" ? 0 : Number(document.getElementById("deduction").value),
        description: document.getElementById("description").value,
        reporter: document.getElementById("reporter").value || null
      };
      if (body.lon === null || body.lat === null) { status(L_.click_map, true); return; }
      var button = document.getElementById("save");
      button.disabled = true;
      var saved = false;
      status(L_.saving);
      send(cfg.urls.create, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      }).then(function (detail) {
        saved = true;
        return uploadPhotos(detail.problem.id).then(function (n) {
          showResult(detail, n);
          status(L_.saved);
        }, function (err) {
          showResult(detail, 0);
          status(window.GeoappHttp.fill(L_.failed_because, { error: err.message }), true);
        });
      }).catch(function (err) {
        status(window.GeoappHttp.fill(L_.failed_because, { error: err.message }), true);
      }).then(function () { button.disabled = saved; });
    });

    document.body.setAttribute("data-map-ready", "1");
    return { map: map, place: place };
  };
})();
