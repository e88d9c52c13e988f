/*! Earshot, for pages whose Content-Security-Policy blocks WebAssembly (no
 * 'wasm-unsafe-eval'), and browsers without it. The loader imports this module instead of
 * the widget; the launcher then opens the widget in a small window of the collector's own
 * (/widget/window), which runs under the collector's policy. The window learns the page's
 * address, settings and visitor through postMessage, and tells the page what happens the
 * same way: the page hears the usual earshot:* events.
 *
 * A frame would keep the dialog on the page, but a policy strict enough to block
 * WebAssembly nearly always blocks frames from the collector too (frame-src falls back to
 * default-src), whereas a window opened by a click is allowed everywhere. */
var WIDTH = 400, HEIGHT = 640;

export function start(host, settings, base, lang) {
  var win = window, doc = document, origin = new URL(base, location.href).origin;
  // The window, once opened; what the page said of its visitor, replayed in the window.
  var popup, context = {};

  function emit(name, detail) {
    doc.dispatchEvent(new CustomEvent("earshot:" + name, { bubbles: true, detail: detail }));
  }
  function send(message) {
    if (popup && !popup.closed) popup.postMessage(message, origin);
  }
  // The accent colours the loader derived, as CSS custom properties.
  function colours() {
    var style = host.style, out = {};
    for (var i = 0; i < style.length; i++) out[style[i]] = style.getPropertyValue(style[i]);
    return out;
  }
  // What the page says of its visitor is kept as JSON (as the widget keeps it), so that it
  // can be posted to the window, now or when it opens.
  function remember(name) {
    return function (value) {
      context[name] = value == null ? null : JSON.parse(JSON.stringify(value));
      send({ earshot: "call", name: name, value: context[name] });
    };
  }

  win.addEventListener("message", function (event) {
    var data = event.data || {};
    if (!popup || event.source !== popup || event.origin !== origin) return;
    if (data.earshot == "ready") {
      var label = host.shadowRoot && host.shadowRoot.querySelector(".launcher span");
      send({
        earshot: "start",
        page: location.href,
        referrer: doc.referrer,
        // The page's viewport, which the feedback records (the window's says nothing of it).
        viewport: [win.innerWidth, win.innerHeight],
        pageLang: doc.documentElement.lang,
        lang: lang,
        title: label ? label.textContent : "",
        theme: host.getAttribute("data-theme"),
        colours: colours(),
        settings: settings,
        context: context
      });
    } else if (data.earshot == "event" && /^(open|close|submit|error)$/.test(data.name)) {
      emit(data.name, data.detail);
    }
  });

  // An inline block (data-target) cannot be drawn without WebAssembly. In its place: its
  // question and a button that opens the window, in the visitor's language.
  if (settings.target) {
    fetch(base + "/widget/texts/" + lang)
      .then(function (response) { return response.json(); })
      .then(function (texts) {
        var root = doc.createElement("div");
        root.className = "earshot";
        root.lang = lang;
        var block = doc.createElement("section");
        block.className = "inline-block window-block";
        var question = doc.createElement("p");
        question.className = "window-question";
        question.textContent = settings.prompt || texts.helpful;
        var button = doc.createElement("button");
        button.type = "button";
        button.className = "button primary";
        button.textContent = texts.launcher;
        button.addEventListener("click", open);
        block.setAttribute("aria-label", question.textContent);
        block.appendChild(question);
        block.appendChild(button);
        root.appendChild(block);
        host.shadowRoot.appendChild(root);
      })
      .catch(function (error) { if (win.console) console.error("earshot:", error); });
  }

  function open() {
    if (popup && !popup.closed) return popup.focus();
    // Over the page, centred; opened from the click itself, so popup blockers allow it.
    var left = win.screenX + Math.max(0, (win.outerWidth - WIDTH) / 2);
    var top = win.screenY + Math.max(0, (win.outerHeight - HEIGHT) / 2);
    popup = win.open(base + "/widget/window?site=" + encodeURIComponent(settings.site || ""), "earshot",
      "popup,width=" + WIDTH + ",height=" + HEIGHT + ",left=" + left + ",top=" + top);
    if (!popup) emit("error", {
      code: "popup-blocked",
      message: "The browser did not let the feedback window open.",
      fallback: "window"
    });
  }

  // The site can tell (and its error tracking can count) that the widget is not on the page.
  emit("error", {
    code: "wasm-blocked",
    message: "This page's Content-Security-Policy blocks WebAssembly; the feedback form opens in a window.",
    fallback: "window"
  });

  return {
    open: open,
    close: function () {
      if (popup && !popup.closed) popup.close();
    },
    setUser: remember("setUser"),
    setMetadata: remember("setMetadata")
  };
}
