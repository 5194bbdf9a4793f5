/* The header menu on a narrow screen (app.css): folded behind the menu button. Without this
   file the button stays hidden and the whole menu shows. Escape folds it and refocuses. */
(function () {
  "use strict";
  var button = document.querySelector(".menu-button");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) {
    return;
  }
  var header = button.parentNode;
  function open(yes) {
    button.setAttribute("aria-expanded", String(yes));
    header.classList.toggle("menu-open", yes);
  }
  open(false);
  header.classList.add("has-menu-button");
  button.hidden = false;
  button.addEventListener("click", function () {
    open(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      open(false);
      button.focus();
    }
  });
  // Back from the back/forward cache: folded again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      open(false);
    }
  });
}());
