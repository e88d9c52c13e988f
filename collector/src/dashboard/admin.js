// The dashboard works without this file; it only adds the snippet's "Copy" button, keeps
// the states of a submission's emails up to date while any is waiting to be sent, and on a
// phone folds the inbox's filters away while none is set.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.value).then(function () {
      button.textContent = "Copied";
    });
  });
});

(function () {
  var section = document.querySelector("#emails[data-poll]");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-poll");
  var tries = 0;
  function waiting() {
    return section.querySelector(".mail-pending") !== null;
  }
  function show(states) {
    states.forEach(function (mail) {
      var row = section.querySelector('tr[data-mail="' + mail.id + '"]');
      if (!row) return;
      var badge = row.querySelector(".mail");
      badge.className = "mail mail-" + mail.state;
      badge.textContent = mail.label;
      row.querySelector(".attempts").textContent = String(mail.attempts);
      row.querySelector(".updated").textContent = mail.updated;
      row.querySelector(".error").textContent = mail.error;
    });
  }
  function poll() {
    // Every 1.5 s for a few minutes at most; a page left open stops asking.
    if (!waiting() || tries++ > 200) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(show)
      .catch(function () {})
      .then(function () { setTimeout(poll, 1500); });
  }
  setTimeout(poll, 1500);
})();

(function () {
  var fold = document.querySelector("details.filter-fold[data-fold=phone]");
  if (fold && window.matchMedia && window.matchMedia("(max-width: 640px)").matches) fold.open = false;
})();
