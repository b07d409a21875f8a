// The mailing form: the "Update" list offers only the updates of the chosen UA
// (the server narrows it too once a UA is chosen, and refuses an update of another UA).
(function () {
  var kase = document.getElementById("case_id");
  var update = document.getElementById("update_id");
  if (!kase || !update) { return; }
  function narrow() {
    Array.prototype.forEach.call(update.options, function (option) {
      var owner = option.getAttribute("data-case");
      var other = owner !== null && owner !== kase.value;
      option.hidden = other;
      option.disabled = other;
      if (other && option.selected) { update.value = ""; }
    });
  }
  kase.addEventListener("change", narrow);
  narrow();
})();
