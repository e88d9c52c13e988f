/*! Earshot loader. Draws the launcher at once and fetches the WebAssembly widget only on the
 * launcher's first hover, focus or click, or when the browser is idle after the page loaded.
 * No inline styles, no eval: a strict CSP needs only the collector in script-src,
 * style-src and connect-src, plus 'wasm-unsafe-eval'; without that the launcher opens the
 * widget in the collector's own window. */
(function (win, doc) {
  "use strict";
  var script = doc.currentScript || doc.querySelector('script[data-site][src*="earshot.js"]');
  if (!script || win.__earshotLoader) return;
  win.__earshotLoader = 1;
  // Marks for the browser's performance timeline: loader ran, launcher shown.
  var perf = win.performance || {};
  perf.mark && perf.mark("earshot:loader");
  // The collector is where this file came from (a path prefix works too).
  var base = script.src.replace(/\/[^\/]*(\?.*)?$/, "");
  var tag = script.dataset, settings = {}, calls = [], widget, loading, wanted, host, shadow, inline, lang;
  // The launcher shows once both its stylesheet and the site's settings have arrived; so
  // does the widget, if it was wanted earlier: until then the host is hidden, and a dialog
  // opened in it could not take the focus.
  var waiting = 2;
  function shown() {
    if (--waiting) return;
    if (perf.mark) perf.mark("earshot:launcher");
    if (wanted) load();
  }
  // Must match `launcher` in widget/src/i18n.rs (a widget test checks).
  var LABELS = {en:"Feedback",es:"Opinión",fr:"Votre avis",de:"Feedback geben",pt:"Opinião",ja:"ご意見",zh:"意见反馈"};

  function fail(error) {
    console.error("earshot:", error);
  }

  // window.earshot: calls made before the widget is ready wait here, then are replayed.
  var earlier = win.earshot && win.earshot.q || [];
  var api = win.earshot = {};
  ["open", "close", "setUser", "setMetadata"].forEach(function (name) {
    api[name] = function () {
      if (widget) return widget[name].apply(widget, arguments);
      calls.push([name, arguments]);
      if (name == "open") load();
    };
  });
  earlier.forEach(function (call) { api[call[0]].apply(api, call[1]); });

  // The screenshot editor, fetched only when a visitor asks for it (earshot-shot.js).
  function shot(name, button) {
    import(base + "/earshot-shot.js").then(function (editor) {
      editor[name](base, settings.site, lang, button);
    }).catch(fail);
  }

  function load() {
    if (loading) return;
    if (waiting) return wanted = 1;
    loading = 1;
    var wasm, ready;
    // A page whose Content-Security-Policy lacks 'wasm-unsafe-eval' cannot compile any wasm
    // (nor can a browser without WebAssembly): there the widget opens in the collector's own
    // window instead (earshot-window.js, fetched only on such pages).
    try {
      new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
      // The wasm download starts beside the glue's, not after it; wasm-bindgen then compiles
      // it with WebAssembly.instantiateStreaming as the bytes arrive.
      wasm = fetch(base + "/widget/earshot_widget_bg.wasm");
    } catch (blocked) {}
    // The texts of the visitor's language come beside it (the wasm speaks English only).
    var texts = wasm && lang != "en" && fetch(base + "/widget/texts/" + lang)
      .then(function (response) { return response.ok ? response.json() : 0; })
      .catch(function () {});
    ready = wasm ? import(base + "/widget/earshot_widget.js").then(function (glue) {
      return Promise.all([glue.default({ module_or_path: wasm }), texts]).then(function (done) {
        if (done[1]) settings.texts = done[1];
        return glue.mount(host, settings, base);
      });
    }) : import(base + "/earshot-window.js").then(function (fallback) {
      return fallback.start(host, settings, base, lang);
    });
    ready.then(function (handle) {
      widget = handle;
      calls.forEach(function (call) {
        try { widget[call[0]].apply(widget, call[1]); } catch (error) { fail(error); }
      });
      calls = [];
    }).catch(fail);
  }

  // WCAG contrast of an accent colour, to derive readable text and outline colours from it.
  function rgb(hex) {
    hex = hex.slice(1);
    if (hex.length == 3) hex = hex.replace(/./g, "$&$&");
    return [0, 2, 4].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
  }
  function luminance(c) {
    return [0.2126, 0.7152, 0.0722].reduce(function (sum, weight, i) {
      var v = c[i] / 255;
      return sum + weight * (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    }, 0);
  }
  function contrast(a, b) {
    a = luminance(a) + 0.05; b = luminance(b) + 0.05;
    return a > b ? a / b : b / a;
  }
  // The accent, darkened (or lightened) just enough to read 4.5:1 on the panel background.
  function readable(c, background, toward) {
    for (var k = 0, d = c; contrast(d, background) < 4.5 && k < 1; ) {
      k += 0.05;
      d = c.map(function (v, i) { return Math.round(v + (toward[i] - v) * k); });
    }
    return "rgb(" + d + ")";
  }
  function paint(color) {
    if (!/^#([0-9a-f]{3}){1,2}$/i.test(color || "")) return;
    var c = rgb(color), white = [255, 255, 255], black = [0, 0, 0], style = host.style;
    style.setProperty("--earshot-accent", color);
    style.setProperty("--earshot-on-accent", contrast(c, white) >= contrast(c, black) ? "#fff" : "#000");
    style.setProperty("--earshot-accent-fg-light", readable(c, white, black));
    style.setProperty("--earshot-accent-fg-dark", readable(c, [31, 36, 48], white));
  }

  function element(name, attributes, parent, namespace) {
    var node = namespace ? doc.createElementNS(namespace, name) : doc.createElement(name);
    for (var key in attributes) node.setAttribute(key, attributes[key]);
    parent.appendChild(node);
    return node;
  }

  function draw(site) {
    // The snippet's attributes win over the site's settings.
    for (var key in site) settings[key] = site[key];
    for (key in tag) if (tag[key]) settings[key] = tag[key];
    // A target that is not on the page means the floating launcher.
    if (!inline) delete settings.target;
    host.setAttribute("data-theme", /^(light|dark)$/.test(settings.theme) ? settings.theme : "auto");
    paint(settings.color);
    // The widget's language: data-lang, else the browser's first one it speaks, else English.
    var languages = [settings.lang].concat(navigator.languages || [navigator.language]);
    lang = languages.map(function (l) { return (l || "").toLowerCase().split(/[-_]/)[0]; })
      .filter(function (l) { return LABELS[l]; })[0] || "en";
    if (!inline) {
      var root = element("div", { "class": "earshot", "data-at": settings.position || "bottom-right", lang: lang }, shadow);
      var button = element("button", { type: "button", "class": "launcher", "aria-haspopup": "dialog", "aria-expanded": "false" }, root);
      var svg = "http://www.w3.org/2000/svg";
      var icon = element("svg", { "class": "launcher-icon", viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" }, button, svg);
      element("path", { d: "M4 4h16v12H7l-3 3V4z" }, icon, svg);
      element("span", {}, button).textContent = settings.label || LABELS[lang];
      button.addEventListener("pointerenter", load);
      button.addEventListener("focus", load);
      button.addEventListener("click", function () { api.open(); });
    }
    shown();
    if (calls.length) load();
    // Otherwise the widget arrives once the page has loaded and the browser has nothing to do.
    function idle() {
      (win.requestIdleCallback || setTimeout)(function () {
        load();
        // A screenshot an earlier page could not send goes out now (earshot-shot.js).
        try { localStorage["earshot-shots:" + settings.site] && shot("resume"); } catch (error) {}
      }, { timeout: 4000 });
    }
    if (doc.readyState == "complete") idle();
    else win.addEventListener("load", idle);
  }

  function start() {
    // The host and its stylesheet go into the page at once, so the stylesheet loads while
    // the settings are fetched; nothing shows until the launcher is drawn into it.
    host = doc.createElement("earshot-widget");
    // Hidden until the stylesheet has loaded (it overrides `hidden`): no unstyled flash.
    host.hidden = true;
    shadow = host.attachShadow({ mode: "open" });
    element("link", { rel: "stylesheet", href: base + "/earshot.css" }, shadow)
      .addEventListener("load", shown);
    var target;
    try { target = tag.target && doc.querySelector(tag.target); } catch (error) { fail(error); }
    inline = !!target;
    // "Add a screenshot" in the widget: the editor is fetched now, never before.
    shadow.addEventListener("click", function (event) {
      var button = event.target.closest(".shot-add");
      if (button) shot("add", button);
    });
    (target || doc.body).appendChild(host);
    fetch(base + "/v1/sites/" + encodeURIComponent(tag.site || "") + "/config")
      .then(function (response) { return response.ok ? response.json() : {}; })
      .catch(function () { return {}; })
      .then(draw).catch(fail);
  }
  if (doc.body) start();
  else doc.addEventListener("DOMContentLoaded", start);
})(window, document);
