/* fasttrack "Need help?" widget (R8a). Include it in an admin center page:
 *   <script src="https://fasttrack.example/widget.js" data-token="wt_…" async></script>
 * It adds a "Need help?" button that opens the request form of fasttrack in a dialog (an iframe
 * served by fasttrack itself), which files the request for the token's tenant. No dependencies. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var token = script.getAttribute("data-token");
  var label = script.getAttribute("data-label") || "Need help?";
  var lang = script.getAttribute("data-lang") || document.documentElement.lang || "";
  if (!token) { console.warn("fasttrack widget: data-token is missing"); return; }
  var base = new URL(script.src, document.baseURI).origin;

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("data-fasttrack-widget", "button");
  button.style.cssText = "position:fixed;right:24px;bottom:24px;z-index:2147483000;padding:12px 20px;" +
    "border:0;border-radius:24px;background:#0b5cad;color:#fff;font:600 15px system-ui,sans-serif;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer";

  var dialog = document.createElement("dialog");
  dialog.setAttribute("aria-label", label);
  dialog.setAttribute("data-fasttrack-widget", "dialog");
  dialog.style.cssText = "width:min(560px,96vw);height:min(760px,92vh);padding:0;border:0;border-radius:12px;" +
    "box-shadow:0 12px 40px rgba(0,0,0,.35)";
  var close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.setAttribute("aria-label", "Close");
  close.style.cssText = "position:absolute;top:6px;right:10px;border:0;background:transparent;font:24px system-ui;cursor:pointer";
  var frame = document.createElement("iframe");
  frame.title = label;
  frame.style.cssText = "width:100%;height:100%;border:0";
  dialog.appendChild(close);
  dialog.appendChild(frame);

  button.addEventListener("click", function () {
    if (!frame.src) {
      frame.src = base + "/widget/form?token=" + encodeURIComponent(token) + (lang ? "&lang=" + encodeURIComponent(lang) : "");
    }
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  });
  close.addEventListener("click", function () { dialog.close ? dialog.close() : dialog.removeAttribute("open"); });
  window.addEventListener("message", function (e) {
    if (e.origin === base && e.data && e.data.fasttrack === "filed") {
      button.textContent = label + " ✓";
    }
  });

  function mount() { document.body.appendChild(button); document.body.appendChild(dialog); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
