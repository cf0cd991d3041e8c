/* The widget's request form: sends the form as JSON with the widget token, shows field errors
 * next to their fields, and tells the embedding page when the request is filed. */
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) { return; }
  var status = document.getElementById("status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new FormData(form);
    var body = {
      kinds: data.getAll("kinds"),
      services: data.getAll("services"),
      contact: { name: data.get("name") || "", email: data.get("email") || "", phone: data.get("phone") || null },
      language: data.get("language") || "",
      description: data.get("description") || ""
    };
    var tz = data.get("time_zone");
    if (tz) { body.time_zone = tz; }
    document.querySelectorAll(".field-error").forEach(function (e) { e.textContent = ""; });
    status.textContent = form.getAttribute("data-sending");
    fetch("/api/v1/widget/requests", {
      method: "POST",
      headers: { "content-type": "application/json", "x-widget-token": form.getAttribute("data-token") },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (doc) { return { ok: res.ok, doc: doc }; });
    }).then(function (r) {
      if (r.ok) {
        form.hidden = true;
        status.textContent = form.getAttribute("data-done") + " (" + r.doc.id + ")";
        if (window.parent !== window) { window.parent.postMessage({ fasttrack: "filed", id: r.doc.id }, "*"); }
        return;
      }
      status.textContent = r.doc.detail || r.doc.title || "Error";
      (r.doc.errors || []).forEach(function (e) {
        var name = String(e.field).split(/[.\[]/)[0];
        if (name === "contact") { name = String(e.field).split(".")[1] || "name"; }
        var slot = document.getElementById("error-" + name);
        if (slot) { slot.textContent = e.message; }
      });
    }).catch(function () { status.textContent = form.getAttribute("data-failed"); });
  });
})();
