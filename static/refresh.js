// Reload a progress page every few seconds, with a button to stop it (WCAG 2.2.1:
// a timed refresh the user cannot turn off is a barrier; a <meta> refresh is).
(function () {
  "use strict";
  var box = document.querySelector("[data-refresh-seconds]");
  if (!box) return;
  var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10) || 5;
  var button = box.querySelector("button");
  var timer = window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  button.hidden = false;
  button.addEventListener("click", function () {
    window.clearTimeout(timer);
    button.hidden = true;
    box.querySelector(".refresh-note").textContent = "Automatic refresh stopped.";
  });
})();
