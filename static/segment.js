// Live count on the segment page: re-count as filters change (the Count
// button does the same without JavaScript).
(function () {
  var form = document.getElementById("segment-form");
  if (!form || !window.fetch) { return; }
  var status = form.querySelector(".live-count");
  var timer = null;
  function update() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrf_token");
    fetch(form.dataset.countUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        status.textContent = body.count !== undefined
          ? body.count.toLocaleString() + " supporters match (any state; mailings go only to those subscribed)."
          : body.message;
      });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 300); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(update, 100); });
})();
