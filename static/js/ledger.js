// The ledger page's filter form: the URL is the state, so a change reloads the page with
// the new filters (a plain GET, nothing is written) and the link can be shared.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  function go(params) {
    var query = params.toString();
    window.location.assign(window.location.pathname + (query ? "?" + query : ""));
  }
  form.addEventListener("change", function () {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (String(value).trim()) params.append(key, value);
    });
    var lang = new URLSearchParams(window.location.search).get("lang");
    if (lang) params.set("lang", lang);
    go(params);
  });
  var reset = document.getElementById("filters-reset");
  if (reset) {
    reset.addEventListener("click", function (event) {
      event.preventDefault();
      go(new URLSearchParams());
    });
  }
})();
