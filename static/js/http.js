/* One way for page scripts to call the JSON API: GeoappHttp.send(url, fetchOptions).
 *
 * Resolves with the parsed JSON answer; on a 4xx/5xx it rejects with an Error whose message
 * is the server's (plus the first details it lists), with .status and .body attached, so a
 * page can show it as it is; GeoappHttp.fill(template, values) fills a translated label's
 * %(name)s fields.  csrf.js (on every page) adds the CSRF header; the pages that
 * call the API include this file before their own script.
 */
(function () {
  "use strict";

  function send(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    return fetch(url, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) {
          var message = body.message || (r.status + " " + r.statusText);
          if (body.details) message += " — " + body.details.slice(0, 5).join("; ");
          var err = new Error(message);
          err.status = r.status;
          err.body = body;
          throw err;
        }
        return body;
      });
    });
  }

  // A translated template from the page's labels with its %(name)s fields filled in: the
  // server translates whole sentences, the page only puts the values where they belong.
  function fill(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }

  window.GeoappHttp = { send: send, fill: fill };
})();
