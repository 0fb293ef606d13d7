/* The field pages' service worker, served by /field/sw.js (geoapp/web/field.py), which puts
 * self.FIELD_SW = {version, pages, files, keep} before this text.  Scope: /field/.
 *
 * - install: keeps the report page and the files it loads (Leaflet, the field scripts and
 *   stylesheet) in a cache named after the version; activate drops older caches.
 * - pages of the scope (navigations): network first; with no network (or none within
 *   NETWORK_WAIT_MS), the copy kept last, so the pages open offline.
 * - the files: the kept copy first.
 * - the areas' outlines (FIELD_SW.keep): network first, the last answer kept for offline.
 * - everything else (the API's writes, lookups, photos, tiles) goes to the network as is.
 * Reports are not sent from here: the page's queue (field-queue.js) sends them, with the
 * page's CSRF token, when it is open and online.
 */
"use strict";
var CFG = self.FIELD_SW;
var CACHE = "geoapp-field-" + CFG.version;
var NETWORK_WAIT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(CFG.files).then(function () {
        return Promise.all(CFG.pages.map(function (url) {
          return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (r) {
            if (r.ok) return cache.put(url, r);
          });
        }));
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("geoapp-field-") === 0 && n !== CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function networkFirst(request, key) {
  return caches.open(CACHE).then(function (cache) {
    return withTimeout(fetch(request), NETWORK_WAIT_MS).then(function (response) {
      // keep only real pages: not a redirect to the sign-in page, not an error
      if (response.ok && !response.redirected && response.type === "basic") {
        cache.put(key, response.clone());
      }
      return response;
    }).catch(function (err) {
      return cache.match(key, { ignoreSearch: true }).then(function (kept) {
        if (kept) return kept;
        throw err;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var scope = new URL(self.registration.scope);
  if (request.mode === "navigate" && url.pathname.indexOf(scope.pathname) === 0) {
    event.respondWith(networkFirst(request, url.pathname));
    return;
  }
  if (CFG.files.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname).then(function (kept) { return kept || fetch(request); }));
    return;
  }
  if (CFG.keep.indexOf(url.pathname) >= 0) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});
