/* GeoappField.queue: reports kept on the phone (IndexedDB, with their photos) until the
 * server has acknowledged them.
 *
 * An item is {client_id, created, report, photos: [Blob], state, error, result}.  States:
 *   queued   saved, not tried yet          sending  a request is under way
 *   waiting  no network / server busy / signed out: tried again when the network returns
 *   sent     acknowledged (result: the problem's id, unit, page); its photos are dropped
 *   failed   refused for good (a 4xx saying what is wrong): kept until removed
 * The database is the account's own (the page's config names it), so a phone shared by two
 * people never sends one's reports under the other's name.  The client_id is made here, before the first try, and sent with every try: the server
 * stores a report once per id (geoapp/services/field.py), so a retry after a lost answer
 * never stores it twice.
 *
 *   queue.add(report, photos) -> Promise<item>     queue.all() -> Promise<[item]>
 *   queue.flush(url) -> Promise (sends what can be sent, one at a time)
 *   queue.remove(id), queue.onchange = function (items) {...}
 */
(function () {
  "use strict";
  // one database per account (the page names it in its config: queue)
  var cfgNode = document.getElementById("field-cfg");
  var DB = (cfgNode && JSON.parse(cfgNode.textContent).queue) || "geoapp-field";
  var STORE = "reports";
  var SENT_KEPT_MS = 7 * 24 * 3600 * 1000;  // acknowledged items stay listed a week
  var opening = null;

  function open() {
    if (opening) return opening;
    opening = new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return opening;
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function all() {
    return run("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return items.sort(function (a, b) { return a.created - b.created; });
    });
  }

  function notify() {
    if (!api.onchange) return Promise.resolve();
    return all().then(function (items) { api.onchange(items); });
  }

  function put(item) {
    return run("readwrite", function (s) { s.put(item); }).then(notify).then(function () { return item; });
  }

  function remove(id) {
    return run("readwrite", function (s) { s.delete(id); }).then(notify);
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function add(report, photos) {
    var id = newId();
    var item = {
      client_id: id, created: Date.now(), report: Object.assign({}, report, { client_id: id }),
      photos: photos || [], state: "queued", error: null, result: null
    };
    return put(item);
  }

  // A fresh CSRF token from the page itself (the one in a page opened offline may be old).
  function refreshToken(pageUrl) {
    return fetch(pageUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      return r.text();
    }).then(function (html) {
      var m = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
      var meta = document.querySelector('meta[name="csrf-token"]');
      if (m && meta) meta.setAttribute("content", m[1]);
      return !!m;
    });
  }

  function sendOne(url, item, pageUrl, retried) {
    var form = new FormData();
    form.append("report", JSON.stringify(item.report));
    item.photos.forEach(function (blob, i) { form.append("photo", blob, "photo-" + (i + 1) + ".jpg"); });
    return fetch(url, { method: "POST", body: form, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.ok && (body.visit || body.checkin)) {
            // a visit or a patrol check-in (geoapp/web/views/field_coverage.py)
            item.state = "sent";
            item.photos = [];
            item.error = null;
            item.result = { visit: body.visit || null, checkin: body.checkin || null, replayed: r.status === 200 };
            item.sent_at = Date.now();
            return put(item).then(function () { return true; });
          }
          if (r.ok && body.problem) {
            var a = body.assignment || {};
            item.state = "sent";
            item.photo_count = item.photos.length;
            item.photos = [];
            item.error = null;
            item.result = {
              id: body.problem && body.problem.id,
              problem_id: body.problem && body.problem.problem_id,
              unit: (a.responsible_unit || {}).name || null,
              area: (a.area || {}).name || null,
              page: body.links && body.links.page,
              replayed: r.status === 200
            };
            item.sent_at = Date.now();
            return put(item).then(function () { return true; });
          }
          if (r.status === 400 && body.error === "csrf_failed" && !retried && pageUrl) {
            return refreshToken(pageUrl).then(function () { return sendOne(url, item, pageUrl, true); });
          }
          var message = body.message || (r.status + " " + r.statusText);
          if (r.ok || r.status === 401 || r.status === 408 || r.status === 429 || r.status >= 500 || r.status === 400 && body.error === "csrf_failed") {
            item.state = "waiting";
            item.error = r.status === 401 ? "sign_in" : message;
            return put(item).then(function () { return false; });
          }
          item.state = "failed";
          item.error = message;
          return put(item).then(function () { return true; });
        });
      }, function () {
        item.state = "waiting";
        item.error = null;
        return put(item).then(function () { return false; });
      });
  }

  var flushing = null;
  function flush(url, pageUrl) {
    if (flushing) return flushing;
    flushing = all().then(function (items) {
      var now = Date.now();
      var old = items.filter(function (i) { return i.state === "sent" && now - (i.sent_at || 0) > SENT_KEPT_MS; });
      var todo = items.filter(function (i) { return i.state !== "sent" && i.state !== "failed"; });
      return Promise.all(old.map(function (i) { return remove(i.client_id); })).then(function () {
        return todo.reduce(function (chain, item) {
          return chain.then(function (goOn) {
            if (!goOn) return false;
            item.state = "sending";
            return put(item).then(function () { return sendOne(url, item, pageUrl, false); });
          });
        }, Promise.resolve(true));
      });
    }).then(function (v) { flushing = null; return v; }, function (e) { flushing = null; throw e; });
    return flushing;
  }

  function retry(id) {
    return run("readonly", function (s) { return s.get(id); }).then(function (item) {
      if (!item) return null;
      item.state = "queued";
      item.error = null;
      return put(item);
    });
  }

  var api = { add: add, all: all, remove: remove, retry: retry, flush: flush, newId: newId, onchange: null };
  window.GeoappField = window.GeoappField || {};
  window.GeoappField.queue = api;
})();
