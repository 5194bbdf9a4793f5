/* The header menu on a narrow screen: progressive enhancement only.
   Without this file the menu button stays hidden and every link of the menu is shown (taller
   header, nothing out of reach). With it, below the width in app.css, the menu folds behind one
   button: about 65 px of header on a phone instead of about 300. The button says whether the
   menu is open (aria-expanded) and which element it opens (aria-controls); Escape closes it and
   gives the focus back to the button. No user-visible text lives here. */
(function () {
  "use strict";

  var button = document.querySelector(".menu-button[aria-controls]");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  var header = button && button.parentNode;
  if (!menu || !header) {
    return;
  }

  function isOpen() {
    return button.getAttribute("aria-expanded") === "true";
  }

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  }

  setOpen(false);
  header.classList.add("has-menu-button");
  button.hidden = false;

  button.addEventListener("click", function () {
    setOpen(!isOpen());
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      setOpen(false);
      button.focus();
    }
  });
  // A page shown again from the back/forward cache opens with the menu folded.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      setOpen(false);
    }
  });
}());
