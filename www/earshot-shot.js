/*! Earshot: the screenshot editor. The loader imports this module only when a visitor
 * clicks "Add a screenshot" (and on a later page, when a screenshot is still waiting to be
 * sent); the wasm knows nothing of it.
 *
 * It takes one frame of the tab (getDisplayMedia, preferCurrentTab, the stream stopped at
 * once) or, where that is not offered (phones), an image file the visitor picks. The
 * visitor draws rectangles that highlight or black out parts, with a pointer or the
 * keyboard, undoes them, and attaches the picture or cancels (Escape too). When the
 * feedback is sent (earshot:submit, which carries its id) the picture, marks burnt in, is
 * kept in IndexedDB and PUT to /v1/feedback/{id}/screenshot; it leaves IndexedDB once the
 * collector has it or has refused it for good, and is tried again with backoff, when the
 * browser comes back online, and on the next page until then. The visitor is told how it
 * fared.
 *
 * Everything is drawn on canvases and built with createElement: no innerHTML, no image
 * URLs, so it works under the strictest page policy that lets the widget run. */

// Must match earshot_shared::limits (a collector test checks).
const MAX_BYTES = 2000000;
const MAX_PIXELS = 16000000;
const TYPES = ["image/png", "image/jpeg", "image/webp"];
// Kept no longer than the offline queue keeps feedback, retried as it retries.
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const FIRST_WAIT_MS = 5000;
const MAX_WAIT_MS = 300000;
const DATABASE = "earshot";
const STORE = "screenshots";
// Set while a site has screenshots waiting, so that the loader knows to load this module.
const MARK = "earshot-shots:";

const HIGHLIGHT = "#f59e0b";
// The keyboard's frame moves and grows by a 50th of the picture a key press, and by five
// times that with Page Up, Page Down, Home and End (Fn and an arrow on a Mac): four presses
// from the middle to a corner.
const STEPS = 50;
const BIG_STEP = 5;

// Where the widget is: its shadow root, the collector, the site, its texts, and whether it
// runs in the collector's own window (pages that block WebAssembly).
let widget = null;
// The picture attached to the form being filled in: {image: canvas, marks: [...]}.
let attached = null;
// The submission whose screenshot the thank-you reports on, and uploads under way.
let reporting = null;
const busy = new Set();
let retrying = false;
let database = null;

/** The loader calls this on a click on "Add a screenshot" (`button`, in the widget's
 * shadow root), with the collector, the site and the widget's language. */
export function add(base, site, lang, button, inWindow) {
  setUp(button.getRootNode(), base, site, lang, inWindow);
  take();
}

/** The loader calls this on a page where a screenshot is still waiting to be sent. */
export function resume(base, site, lang) {
  setUp(null, base, site, lang, false);
  retry();
}

function setUp(root, base, site, lang, inWindow) {
  if (!widget) {
    document.addEventListener("earshot:submit", submitted);
    // The dialog closed and opened again: its form is drawn anew, the picture with it.
    document.addEventListener("earshot:open", function () { if (attached) preview(); });
    window.addEventListener("online", function () { flush(); retry(); });
  }
  widget = { root: root || (widget && widget.root), base: base, site: site, inWindow: inWindow,
    texts: (widget && widget.texts) || fetchTexts(base, /^[a-z]{2}$/.test(lang) ? lang : "en") };
  // The editor's styles, beside the widget's in its shadow root.
  const shadow = widget.root;
  if (shadow && !shadow.querySelector("link[data-shot]")) {
    const link = element("link", { rel: "stylesheet", href: base + "/earshot-shot.css", "data-shot": "" });
    shadow.insertBefore(link, shadow.firstChild);
  }
}

// The editor's texts (GET /widget/screenshot-texts/{lang}), fetched with it.
function fetchTexts(base, lang) {
  return fetch(base + "/widget/screenshot-texts/" + lang).then(function (response) {
    if (!response.ok && lang != "en") return fetchTexts(base, "en");
    return response.json();
  });
}

function element(name, attributes, parent, text) {
  const node = document.createElement(name);
  for (const key in attributes) node.setAttribute(key, attributes[key]);
  if (text != null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function button(parent, text, className, action) {
  const node = element("button", { type: "button", "class": "button " + className }, parent, text);
  node.addEventListener("click", action);
  return node;
}

function nextFrame() {
  return new Promise(function (done) { requestAnimationFrame(function () { done(); }); });
}

// The block the form keeps for the screenshot, and its "Add a screenshot" button.
function area() {
  return widget.root && widget.root.querySelector(".shot");
}

// ---- Taking the picture ----

// Desktop browsers share a tab; phone browsers have no getDisplayMedia at all.
function canCapture() {
  const media = navigator.mediaDevices;
  return !!(media && media.getDisplayMedia);
}

let taking = false;

async function take() {
  // A second click while the browser asks the visitor is the same request.
  if (taking) return;
  taking = true;
  try {
    let texts;
    try {
      texts = await widget.texts;
    } catch (error) {
      // Not fetched (the connection dropped): the next click fetches them again.
      widget.texts = null;
      return;
    }
    // A phone: most visitors have no screenshot of the problem yet, and one taken now would
    // show this form. Say what to pick, and how to take one, before the picker opens.
    if (!canCapture()) return note(texts.pick_hint, [[texts.choose_file, choose]]);
    let image;
    try {
      image = await capture();
    } catch (error) {
      // Cancelled by the visitor, or refused by the browser: not an error; again, or a file.
      return note(texts.capture_refused, [[texts.choose_file, choose], [texts.retry, take]]);
    }
    clearNote();
    edit(image, []);
  } finally {
    taking = false;
  }
}

// One frame of this tab. The widget hides while it is taken, so the picture shows the page.
async function capture() {
  const host = widget.root.host;
  host.setAttribute("data-capturing", "");
  try {
    // At the tab's own size in device pixels (tab capture would default to 800 × 600); from
    // the collector's window, the page's tab is about as large as the screen.
    const ratio = window.devicePixelRatio || 1;
    const size = widget.inWindow ? screen : { width: innerWidth, height: innerHeight };
    const stream = await navigator.mediaDevices.getDisplayMedia({
      video: {
        displaySurface: "browser",
        width: { ideal: Math.round(size.width * ratio) },
        height: { ideal: Math.round(size.height * ratio) },
      },
      audio: false,
      // In the collector's window, the visitor picks the page's tab; on the page, this tab.
      preferCurrentTab: !widget.inWindow,
      selfBrowserSurface: widget.inWindow ? "exclude" : "include",
      surfaceSwitching: "exclude",
      monitorTypeSurfaces: "exclude",
    });
    const track = stream.getVideoTracks()[0];
    try {
      const canvas = element("canvas");
      let source = null;
      if (window.ImageCapture) {
        // Chromium: the next frame, as a bitmap. A stream that has just started may have
        // none yet: a few tries, a little longer apart.
        const grabber = new ImageCapture(track);
        for (let attempt = 1; !source && attempt <= 5; attempt++) {
          source = await grabber.grabFrame().catch(function () {
            return new Promise(function (done) { setTimeout(done, 100 * attempt, null); });
          });
        }
      }
      if (!source) {
        source = element("video");
        source.muted = true;
        source.srcObject = stream;
        await source.play();
      }
      canvas.width = source.width || source.videoWidth;
      canvas.height = source.height || source.videoHeight;
      canvas.getContext("2d").drawImage(source, 0, 0);
      if (source.close) source.close();
      return canvas;
    } finally {
      stream.getTracks().forEach(function (track) { track.stop(); });
    }
  } finally {
    host.removeAttribute("data-capturing");
  }
}

function choose() {
  const block = area();
  if (block) pick(block);
}

// An image file the visitor picks (phones; or after a refused capture): the form's file
// field, made once, opens the editor whenever a file is chosen.
function pick(parent) {
  let input = parent.querySelector(".shot-file");
  if (!input) {
    input = element("input", { type: "file", accept: TYPES.join(","), "class": "shot-file visually-hidden", tabindex: "-1", "aria-hidden": "true" }, parent);
    input.addEventListener("change", function () {
      const file = input.files[0];
      input.value = "";
      if (!file) return;
      decode(file).then(function (image) {
        clearNote();
        edit(image, []);
      }, function () {
        widget.texts.then(function (texts) { note(texts.unreadable, [[texts.choose_file, choose]], true); });
      });
    });
  }
  input.click();
}

// The file as a canvas, turned as its EXIF says, at most MAX_PIXELS (marked `smaller`
// when it had more, so that the visitor is told).
async function decode(file) {
  if (TYPES.indexOf(file.type) < 0) throw new Error("not an image");
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, Math.sqrt(MAX_PIXELS / (bitmap.width * bitmap.height)));
  const canvas = element("canvas");
  canvas.width = Math.floor(bitmap.width * scale);
  canvas.height = Math.floor(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  canvas.smaller = scale < 1;
  bitmap.close();
  return canvas;
}

// A sentence in the place of "Add a screenshot", with what the visitor can do next on a row
// of its own below it (`choices`: [text, action] pairs, the first one focused). Muted when it
// only informs; red, and said at once, when something went wrong.
function note(message, choices, failed) {
  const block = area();
  if (!block) return;
  clearNote();
  const box = element("div", { "class": failed ? "shot-note shot-failed" : "shot-note" }, block);
  element("p", { id: "earshot-shot-note", "class": "shot-say", role: failed ? "alert" : "status" }, box, message);
  const row = element("div", { "class": "shot-choices" }, box);
  const buttons = choices.map(function (choice) {
    const node = button(row, choice[0], "secondary", choice[1]);
    node.setAttribute("aria-describedby", "earshot-shot-note");
    return node;
  });
  const add = block.querySelector(".shot-add");
  if (add) add.hidden = true;
  buttons[0].focus();
}

// The note gone, and "Add a screenshot" back unless a picture is attached.
function clearNote() {
  const block = area();
  if (!block) return;
  const box = block.querySelector(".shot-note");
  if (box) box.remove();
  const add = block.querySelector(".shot-add");
  if (add && !attached) add.hidden = false;
}

// ---- Marking it up ----

// The picture with its marks, and (while editing) the keyboard's frame.
function paint(canvas, image, marks, frame) {
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  const scale = canvas.width / image.width;
  const line = Math.max(2, Math.round(Math.max(image.width, image.height) / 300)) * scale;
  marks.concat(frame ? [frame] : []).forEach(function (mark) {
    const x = mark.x * scale, y = mark.y * scale, w = mark.w * scale, h = mark.h * scale;
    if (mark.kind == "black") {
      context.fillStyle = "#000";
      context.fillRect(x, y, w, h);
    } else if (mark.kind == "highlight") {
      context.lineWidth = line;
      context.strokeStyle = HIGHLIGHT;
      context.strokeRect(x, y, w, h);
    }
    if (mark.frame) {
      context.lineWidth = Math.max(1, line / 2);
      context.setLineDash([6 * scale + 2, 4 * scale + 2]);
      context.strokeStyle = "#fff";
      context.strokeRect(x, y, w, h);
      context.strokeStyle = "#000";
      context.lineDashOffset = 5 * scale + 1;
      context.strokeRect(x, y, w, h);
      context.setLineDash([]);
      context.lineDashOffset = 0;
    }
  });
}

async function edit(image, marks) {
  const texts = await widget.texts;
  const root = widget.root;
  marks = marks.slice();
  let tool = "highlight";
  // The keyboard's frame, in the picture's pixels: a quarter of it, in the middle.
  const frame = { x: image.width * 3 / 8, y: image.height * 3 / 8, w: image.width / 4, h: image.height / 4, frame: true, kind: "" };
  let drag = null, showFrame = false;

  const overlay = element("div", { "class": "shot-editor", role: "dialog", "aria-modal": "true", "aria-labelledby": "earshot-shot-title" }, root);
  const box = element("div", { "class": "shot-box" }, overlay);
  element("h2", { id: "earshot-shot-title", "class": "shot-title" }, box, texts.title);
  // Keys only where there may be a keyboard: a touch screen alone (a coarse pointer and no
  // fine one) gets the finger's way.
  const touchOnly = !!window.matchMedia && matchMedia("(any-pointer: coarse)").matches &&
    !matchMedia("(any-pointer: fine)").matches;
  element("p", { id: "earshot-shot-help", "class": "shot-help" }, box, touchOnly ? texts.help_touch : texts.help);
  const tools = element("div", { "class": "shot-tools", role: "group", "aria-label": texts.title }, box);
  const toolButtons = [["highlight", texts.highlight], ["black", texts.black_out]].map(function (entry) {
    const node = button(tools, entry[1], "secondary shot-tool", function () {
      tool = entry[0];
      toolButtons.forEach(function (other) { other.setAttribute("aria-pressed", String(other == node)); });
    });
    node.setAttribute("aria-pressed", String(entry[0] == tool));
    node.setAttribute("data-tool", entry[0]);
    return node;
  });
  const undo = button(tools, texts.undo, "secondary shot-undo", function () {
    marks.pop();
    say(texts.undone);
    draw();
  });
  const stage = element("div", { "class": "shot-stage" }, box);
  const canvas = element("canvas", { "class": "shot-canvas", tabindex: "0", role: "img", "aria-label": texts.picture, "aria-describedby": "earshot-shot-help" }, stage);
  canvas.width = image.width;
  canvas.height = image.height;
  const status = element("div", { "class": "visually-hidden", role: "status", "aria-live": "polite" }, box);
  const actions = element("div", { "class": "shot-actions" }, box);
  // Cancel leaves everything as it was before the editor opened: no picture, or the one
  // attached with its marks (this edit's marks are a copy). The form's "Remove" drops it.
  button(actions, texts.cancel, "secondary shot-cancel", function () { close(); cancelled(); });
  button(actions, texts.attach, "primary shot-attach", function () {
    close();
    attached = { image: image, marks: marks };
    preview(true);
  });

  function say(message) { status.textContent = message; }
  function draw() {
    undo.disabled = !marks.length;
    paint(canvas, image, drag ? marks.concat([drag]) : marks, showFrame && !drag ? frame : null);
  }
  function close() { overlay.remove(); }
  function addMark(mark) {
    if (mark.w < 3 || mark.h < 3) return;
    marks.push({ kind: tool, x: Math.round(mark.x), y: Math.round(mark.y), w: Math.round(mark.w), h: Math.round(mark.h) });
    say(tool == "black" ? texts.black_out_added : texts.highlight_added);
  }

  // A pointer draws a rectangle from where it went down to where it comes up.
  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: Math.min(image.width, Math.max(0, (event.clientX - rect.left) * image.width / rect.width)),
      y: Math.min(image.height, Math.max(0, (event.clientY - rect.top) * image.height / rect.height)),
    };
  }
  let start = null;
  canvas.addEventListener("pointerdown", function (event) {
    start = point(event);
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!start) return;
    const at = point(event);
    drag = { kind: tool, x: Math.min(start.x, at.x), y: Math.min(start.y, at.y), w: Math.abs(at.x - start.x), h: Math.abs(at.y - start.y) };
    draw();
  });
  canvas.addEventListener("pointerup", function () {
    if (drag) addMark(drag);
    start = drag = null;
    draw();
  });
  canvas.addEventListener("pointercancel", function () { start = drag = null; draw(); });

  // The keyboard moves and sizes a frame, and Enter draws it.
  canvas.addEventListener("focus", function () { showFrame = canvas.matches(":focus-visible"); draw(); });
  canvas.addEventListener("blur", function () { showFrame = false; draw(); });
  canvas.addEventListener("keydown", function (event) {
    const stepX = Math.max(1, Math.round(image.width / STEPS)), stepY = Math.max(1, Math.round(image.height / STEPS));
    const bigX = stepX * BIG_STEP, bigY = stepY * BIG_STEP;
    const moves = {
      ArrowLeft: [-stepX, 0], ArrowRight: [stepX, 0], ArrowUp: [0, -stepY], ArrowDown: [0, stepY],
      Home: [-bigX, 0], End: [bigX, 0], PageUp: [0, -bigY], PageDown: [0, bigY],
    };
    const move = moves[event.key];
    if (move) {
      if (event.shiftKey) {
        frame.w = Math.min(image.width - frame.x, Math.max(stepX, frame.w + move[0]));
        frame.h = Math.min(image.height - frame.y, Math.max(stepY, frame.h + move[1]));
      } else {
        frame.x = Math.min(image.width - frame.w, Math.max(0, frame.x + move[0]));
        frame.y = Math.min(image.height - frame.h, Math.max(0, frame.y + move[1]));
      }
    } else if (event.key == "Enter" || event.key == " ") {
      addMark(frame);
    } else {
      return;
    }
    event.preventDefault();
    showFrame = true;
    draw();
  });

  // A click beside the controls (the backdrop, the box's margins) leaves the focus where it
  // is, not on the page behind.
  overlay.addEventListener("mousedown", function (event) {
    if (!event.target.closest("button, canvas")) event.preventDefault();
  });

  // The editor keeps the focus until it closes. Escape cancels, as in any dialog: a visitor
  // backing out of a picture that shows too much must not find it attached.
  overlay.addEventListener("keydown", function (event) {
    if (event.key == "Escape") {
      event.stopPropagation();
      close();
      cancelled();
    } else if (event.key == "Tab") {
      const focusable = Array.prototype.filter.call(overlay.querySelectorAll("button, canvas"), function (node) { return !node.disabled; });
      const first = focusable[0], last = focusable[focusable.length - 1];
      if (event.shiftKey ? root.activeElement == first : root.activeElement == last) {
        event.preventDefault();
        (event.shiftKey ? last : first).focus();
      }
    }
  });
  draw();
  toolButtons[0].focus();
}

// The attached picture in the form: a thumbnail, "Edit" and "Remove".
function preview(focus) {
  const block = area();
  if (!block || !attached) return;
  widget.texts.then(function (texts) {
    const old = block.querySelector(".shot-preview");
    if (old) old.remove();
    clearNote();
    const add = block.querySelector(".shot-add");
    add.hidden = true;
    const box = element("div", { "class": "shot-preview" }, block);
    const image = attached.image;
    const thumb = element("canvas", { "class": "shot-thumb", role: "img", "aria-label": texts.attached }, box);
    const scale = Math.min(1, 240 / image.width, 135 / image.height);
    thumb.width = Math.max(1, Math.round(image.width * scale));
    thumb.height = Math.max(1, Math.round(image.height * scale));
    paint(thumb, image, attached.marks, null);
    const buttons = element("div", { "class": "shot-buttons" }, box);
    const editButton = button(buttons, texts.edit, "secondary shot-edit", function () {
      edit(attached.image, attached.marks);
    });
    button(buttons, texts.remove, "secondary shot-remove", remove);
    if (focus) editButton.focus();
  });
}

// The editor closed without attaching: the focus goes back where the visitor came from.
function cancelled() {
  const block = area();
  if (!block) return;
  clearNote();
  const back = attached ? block.querySelector(".shot-edit") : block.querySelector(".shot-add");
  if (back) back.focus();
}

function remove() {
  attached = null;
  const block = area();
  if (!block) return;
  clearNote();
  const old = block.querySelector(".shot-preview");
  if (old) old.remove();
  const add = block.querySelector(".shot-add");
  add.hidden = false;
  add.focus();
}

// ---- Sending it ----

// The picture with its marks burnt in, as a PNG, else a JPEG, smaller until it fits; and
// whether it is smaller than the visitor's picture (here, or when the file was read).
async function flatten(shot) {
  let scale = 1;
  for (;;) {
    const canvas = element("canvas");
    canvas.width = Math.max(1, Math.round(shot.image.width * scale));
    canvas.height = Math.max(1, Math.round(shot.image.height * scale));
    paint(canvas, shot.image, shot.marks, null);
    for (const type of ["image/png", "image/jpeg"]) {
      const blob = await new Promise(function (done) { canvas.toBlob(done, type, 0.85); });
      if (blob && blob.size <= MAX_BYTES) return { blob: blob, smaller: scale < 1 || !!shot.image.smaller };
    }
    scale *= 0.7;
  }
}

async function submitted(event) {
  const detail = event.detail || {};
  if (!attached || !detail.id) return;
  const shot = attached;
  attached = null;
  // A queued submission's screenshot waits with it, quietly: the visitor was told so.
  reporting = detail.queued ? null : detail.id;
  const texts = await widget.texts;
  // After the thank-you is drawn.
  await nextFrame();
  report(texts.sending);
  const flat = await flatten(shot);
  const record = { id: detail.id, site: widget.site, base: widget.base, at: Date.now(), blob: flat.blob, smaller: flat.smaller };
  const kept = await keep(record);
  if (detail.queued) {
    report(kept ? texts.kept : texts.dropped);
    if (!kept) emitError("screenshot-dropped", texts.dropped, record.id);
    retry();
    return;
  }
  await send(record, texts);
  if (kept) retry();
}

// Sends one; tells the visitor how it went if it is the one the thank-you is about.
async function send(record, texts) {
  if (busy.has(record.id)) return "busy";
  busy.add(record.id);
  let outcome;
  try {
    outcome = await upload(record);
  } finally {
    busy.delete(record.id);
  }
  if (outcome != "later") await forget(record.id);
  // Only the visitor who just sent it hears how it went (and the page with them); a
  // screenshot sent later from another page goes quietly.
  if (record.id == reporting && texts) {
    if (outcome == "stored") {
      report(record.smaller ? texts.sent_smaller : texts.sent);
      reporting = null;
    } else if (outcome == "later") {
      report(texts.failed, texts.retry, record);
      emitError("screenshot-waiting", texts.failed, record.id);
    } else {
      report(texts.refused);
      emitError(outcome, texts.refused, record.id);
    }
  }
  return outcome;
}

// "stored"; "later" when trying again may work; else the collector's code for a refusal.
async function upload(record) {
  // Read before sending: the widget removes a queued submission only once the collector
  // has stored or refused it, so one not queued now and unknown below will never arrive.
  const queued = inQueue(record);
  let response;
  try {
    response = await fetch(record.base + "/v1/feedback/" + record.id + "/screenshot", {
      method: "PUT",
      headers: { "Content-Type": record.blob.type },
      body: record.blob,
    });
  } catch (error) {
    return "later";
  }
  if (response.ok) return "stored";
  let code = "";
  try { code = (await response.json()).code || ""; } catch (error) { /* not JSON */ }
  if (response.status >= 500 || code == "rate-limited") return "later";
  // A submission still in the offline queue is not at the collector yet.
  if (code == "unknown-submission" && queued) return "later";
  return code || "server";
}

// Whether the submission waits in the widget's offline queue (`earshot-queue:{site}:{when}:{id}`
// in localStorage, widget/src/queue.rs).
function inQueue(record) {
  try {
    return Object.keys(localStorage).some(function (key) {
      return key.indexOf("earshot-queue:" + record.site + ":") == 0 && key.endsWith(":" + record.id);
    });
  } catch (error) {
    return true;
  }
}

// The line under the thank-you, with a button to try again when it failed.
function report(message, again, record) {
  // The thank-you is drawn just before earshot:submit; later reports find it there.
  const thanks = widget.root && widget.root.querySelector(".thanks");
  if (!thanks) return;
  let line = thanks.querySelector(".shot-status");
  if (!line) {
    line = element("p", { "class": "shot-status", role: "status" });
    const title = thanks.querySelector(".thanks-body");
    thanks.insertBefore(line, title ? title.nextSibling : null);
  }
  line.textContent = message;
  if (again) {
    button(line, again, "secondary shot-retry", function () {
      widget.texts.then(function (texts) {
        report(texts.sending);
        send(record, texts);
      });
    });
  }
}

function emitError(code, message, id) {
  document.dispatchEvent(new CustomEvent("earshot:error", {
    bubbles: true,
    detail: { code: code, message: message, screenshot: id },
  }));
}

// ---- Keeping it until it is sent ----

function open() {
  if (!database) {
    database = new Promise(function (done, fail) {
      const request = indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "id" }); };
      request.onsuccess = function () { done(request.result); };
      request.onerror = function () { fail(request.error); };
    });
  }
  return database;
}

async function transaction(mode, work) {
  const db = await open();
  return new Promise(function (done, fail) {
    const tx = db.transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = function () { done(request && request.result); };
    tx.onerror = tx.onabort = function () { fail(tx.error); };
  });
}

function marker(site, on) {
  try {
    if (on) localStorage.setItem(MARK + site, "1");
    else localStorage.removeItem(MARK + site);
  } catch (error) { /* storage blocked: the next page will not know; this one still tries */ }
}

async function keep(record) {
  try {
    await transaction("readwrite", function (store) { return store.put(record); });
    marker(record.site, true);
    return true;
  } catch (error) {
    return false;
  }
}

async function forget(id) {
  try {
    await transaction("readwrite", function (store) { return store.delete(id); });
  } catch (error) { /* nothing kept */ }
}

async function waiting() {
  try {
    return await transaction("readonly", function (store) { return store.getAll(); });
  } catch (error) {
    return [];
  }
}

// Sends everything kept for this collector; how many are still waiting.
async function flush() {
  const texts = await Promise.resolve(widget.texts).catch(function () { return null; });
  let left = 0;
  for (const record of await waiting()) {
    if (record.base != widget.base) continue;
    if (Date.now() - record.at > MAX_AGE_MS) {
      await forget(record.id);
    } else if ((await send(record, texts)) == "later") {
      left += 1;
    }
  }
  if (!left) marker(widget.site, false);
  return left;
}

// Now, then after a growing wait while anything is left.
async function retry() {
  if (retrying) return;
  retrying = true;
  try {
    let wait = FIRST_WAIT_MS;
    while (await flush()) {
      await new Promise(function (done) { setTimeout(done, wait); });
      wait = Math.min(wait * 2, MAX_WAIT_MS);
    }
  } finally {
    retrying = false;
  }
}
