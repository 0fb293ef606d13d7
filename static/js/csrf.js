/* Adds this session's CSRF token to every same-origin fetch() that may change state.
 *
 * The server writes the token into <meta name="csrf-token"> (templates/base.html) and
 * refuses a POST/PUT/PATCH/DELETE without it (geoapp/web/security.py).  Loaded before any
 * page script, so pages call fetch() as usual and need not know about the token.
 */
(function () {
  "use strict";
  if (!window.fetch) return;
  var original = window.fetch;
  var SAFE = { GET: 1, HEAD: 1, OPTIONS: 1, TRACE: 1 };

  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function sameOrigin(url) {
    try {
      return new URL(url, window.location.href).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  window.fetch = function (input, init) {
    var request = input instanceof Request ? input : null;
    var method = ((init && init.method) || (request && request.method) || "GET").toUpperCase();
    var url = request ? request.url : String(input);
    var value = token();
    if (!SAFE[method] && value && sameOrigin(url)) {
      init = Object.assign({}, init || {});
      var headers = new Headers((init && init.headers) || (request && request.headers) || {});
      if (!headers.has("X-CSRFToken")) headers.set("X-CSRFToken", value);
      init.headers = headers;
      if (!init.credentials) init.credentials = "same-origin";
    }
    return original.call(this, input, init);
  };
})();
