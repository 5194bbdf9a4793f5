/* Assessment forms: progressive enhancement only; the form works fully without this file.
   - one step at a time with Back/Next (buttons rendered by the template, hidden until now);
   - focus and scroll move to the heading of the step shown;
   - a warning before leaving the page with unsaved answers, never when sending.
   No user-visible text lives here: every word comes from the page (and its translation). */
(function () {
  "use strict";

  var form = document.querySelector("form[data-assessment]");
  if (!form) {
    return;
  }

  // --- unsaved answers -------------------------------------------------------------------
  // A page re-shown with errors or the skipped-items box holds answers not yet saved.
  var dirty = form.hasAttribute("data-unsaved");
  var sending = false;
  function markDirty() {
    dirty = true;
  }
  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);
  form.addEventListener("submit", function () {
    sending = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !sending) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("pageshow", function (event) {
    // Back from the next page (bfcache): the form can be sent again.
    if (event.persisted) {
      sending = false;
    }
  });

  // --- steps -----------------------------------------------------------------------------
  var steps = Array.prototype.slice.call(form.querySelectorAll("section.step"));
  // With the skipped-items box every step stays visible: the gaps may be in any of them.
  if (steps.length < 2 || form.hasAttribute("data-show-all")) {
    return;
  }

  function stepIndexOf(element) {
    for (var i = 0; i < steps.length; i += 1) {
      if (steps[i].contains(element)) {
        return i;
      }
    }
    return -1;
  }

  function show(index, focusTarget) {
    steps.forEach(function (step, i) {
      step.classList.toggle("is-current", i === index);
    });
    if (focusTarget) {
      focusTarget.focus({ preventScroll: true });
      // A radio button is drawn by its label: show its whole question.
      (focusTarget.closest("fieldset, .field") || focusTarget).scrollIntoView({ block: "start" });
    }
  }

  form.classList.add("js-steps");
  steps.forEach(function (step, i) {
    var nav = step.querySelector(".step-nav");
    if (nav) {
      nav.hidden = false;
    }
    step.addEventListener("click", function (event) {
      var button = event.target.closest("[data-step-next], [data-step-back]");
      if (!button) {
        return;
      }
      var next = button.hasAttribute("data-step-next") ? i + 1 : i - 1;
      if (next >= 0 && next < steps.length) {
        show(next, steps[next].querySelector(".step-heading"));
      }
    });
  });

  // Start at the step with the first error, if the page shows errors.
  var firstError = form.querySelector("section.step .has-error");
  show(firstError ? Math.max(stepIndexOf(firstError), 0) : 0, null);

  // Links in the error summary open the step that holds their field.
  form.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    var index = target ? stepIndexOf(target) : -1;
    if (index < 0) {
      return;
    }
    event.preventDefault();
    show(index, target);
  });
})();
