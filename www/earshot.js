/*! Earshot loader: finds its own <script> tag, then loads the feedback widget (WebAssembly)
 * from the same collector. No inline styles, no eval: it works under a strict CSP that
 * allows the collector in script-src and connect-src, plus 'wasm-unsafe-eval'. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[data-site][src*="earshot.js"]');
  if (!script || window.__earshotLoader) return;
  window.__earshotLoader = true;
  // The collector's URL is where this file came from, minus its name, so a collector behind
  // a path prefix works too.
  var base = script.src.replace(/\/[^\/]*(\?.*)?$/, "");
  function fail(error) {
    if (window.console) console.error("earshot: the feedback widget could not load", error);
  }
  function start() {
    import(base + "/widget/earshot_widget.js").then(function (glue) {
      return glue.default({ module_or_path: base + "/widget/earshot_widget_bg.wasm" })
        .then(function () { glue.mount(script, base); });
    }).catch(fail);
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
