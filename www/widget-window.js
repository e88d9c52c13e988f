/*! Earshot: the widget in the collector's own window (/widget/window), for pages whose
 * Content-Security-Policy blocks WebAssembly. The page's loader (earshot-window.js) opens
 * it and, once it says it is ready, tells it the page's address, settings and visitor; the
 * widget's earshot:* events go back to the page. The page is known by the origin the
 * browser gives its messages, which its address must match, so another site cannot send
 * feedback in a site's name through this window (the collector checks the page's origin
 * against the site's). */
(function (win, doc) {
  "use strict";
  var opener = win.opener;
  var base = location.href.replace(/\/widget\/window([?#].*)?$/, "");
  // The page's origin, once it has spoken; the widget, once mounted; whether it is open.
  var page, widget, open;

  if (!opener) {
    doc.getElementById("alone").hidden = false;
    return;
  }

  function tell(name, detail) {
    if (page) opener.postMessage({ earshot: "event", name: name, detail: detail }, page);
  }
  // Only what the page may say of its visitor, whoever sends it.
  function call(name, value) {
    if (!/^(setUser|setMetadata)$/.test(name)) return;
    try { widget[name](value); } catch (error) { console.error("earshot:", error); }
  }

  ["open", "close", "submit", "error"].forEach(function (name) {
    doc.addEventListener("earshot:" + name, function (event) {
      tell(name, event.detail);
      if (name == "open") open = 1;
      // Closing the dialog closes the window: the page is back in front.
      if (name == "close") { open = 0; win.close(); }
    });
  });
  // Closed with the browser's own button.
  win.addEventListener("pagehide", function () { if (open) tell("close", {}); });

  win.addEventListener("message", function (event) {
    var data = event.data || {};
    if (event.source !== opener) return;
    if (data.earshot == "start" && !page) start(event.origin, data);
    else if (data.earshot == "call" && widget && event.origin == page) call(data.name, data.value);
  });
  opener.postMessage({ earshot: "ready" }, "*");

  function start(origin, data) {
    var address;
    try { address = new URL(data.page); } catch (error) { return; }
    if (address.origin !== origin) return;
    page = origin;
    var settings = {}, key;
    for (key in data.settings) settings[key] = data.settings[key];
    // An inline block's question is answered here in a dialog, on its scale (yes or no
    // unless the site chose another).
    if (settings.target && !settings.rating) settings.rating = "thumbs";
    delete settings.target;
    settings.page = data.page;
    settings.referrer = data.referrer || "";
    if (data.viewport && data.viewport.length == 2) {
      settings["viewport-width"] = String(Math.round(data.viewport[0]));
      settings["viewport-height"] = String(Math.round(data.viewport[1]));
    }
    if (data.pageLang) doc.documentElement.lang = data.pageLang;
    // The launcher's words, then the site's name the collector put in the title.
    var at = doc.title.indexOf(" · ");
    if (data.title) doc.title = data.title + (at < 0 ? "" : doc.title.slice(at));

    var host = doc.createElement("earshot-widget");
    host.setAttribute("data-window", "");
    host.setAttribute("data-theme", data.theme || "auto");
    for (key in data.colours) host.style.setProperty(key, data.colours[key]);
    // Hidden until the stylesheet has loaded (it overrides `hidden`).
    host.hidden = true;
    var shadow = host.attachShadow({ mode: "open" });
    var link = doc.createElement("link");
    link.rel = "stylesheet";
    link.href = base + "/earshot.css";
    // The dialog takes the focus as it opens, which a hidden host cannot: open once styled.
    var styled = new Promise(function (done) {
      link.addEventListener("load", done);
      link.addEventListener("error", done);
    });
    shadow.appendChild(link);
    doc.body.appendChild(host);
    // "Add a screenshot": the editor is fetched now, as on the page (earshot-shot.js).
    function shot(name, args) {
      import(base + "/earshot-shot.js").then(function (editor) { editor[name].apply(0, args); })
        .catch(function (error) { console.error("earshot:", error); });
    }
    shadow.addEventListener("click", function (event) {
      var button = event.target.closest(".shot-add");
      if (button) shot("add", [base, settings.site, data.lang, button, true]);
    });
    try { if (localStorage["earshot-shots:" + settings.site]) shot("resume", [base, settings.site, data.lang]); } catch (error) {}

    // The texts of the page's language, as the loader does (the wasm speaks English only).
    var texts = /^[a-z]{2}$/.test(data.lang) && data.lang != "en" && fetch(base + "/widget/texts/" + data.lang)
      .then(function (response) { return response.ok ? response.json() : 0; })
      .catch(function () {});
    import(base + "/widget/earshot_widget.js").then(function (glue) {
      var wasm = glue.default({ module_or_path: base + "/widget/earshot_widget_bg.wasm" });
      return Promise.all([wasm, texts, styled]).then(function (done) {
        if (done[1]) settings.texts = done[1];
        widget = glue.mount(host, settings, base);
        for (var name in data.context) call(name, data.context[name]);
        widget.open();
      });
    }).catch(function (error) {
      console.error("earshot:", error);
      tell("error", { code: "window", message: String(error) });
    });
  }
})(window, document);
