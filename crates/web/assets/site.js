// Small enhancements; every page works without this file.
// As-you-type search: a search field with data-live-search="#target" fetches its own form's
// results page from the server and swaps in the target element.
(function () {
  "use strict";
  document.querySelectorAll("input[data-live-search]").forEach(function (input) {
    var target = document.querySelector(input.getAttribute("data-live-search"));
    var form = input.form;
    if (!target || !form) { return; }
    var timer = null;
    var seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++seq;
        var url = form.action + "?" + new URLSearchParams(new FormData(form)).toString();
        fetch(url, { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            if (mine !== seq) { return; }
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.querySelector(input.getAttribute("data-live-search"));
            if (fresh) { target.replaceWith(fresh); target = fresh; }
            history.replaceState(null, "", url);
          })
          .catch(function () { /* the submit button still works */ });
      }, 200);
    });
  });
})();
