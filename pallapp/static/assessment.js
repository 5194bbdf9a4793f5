/* Assessment forms (progressive enhancement). Why and how, and why there are no comments here
   (every phone loads them): the comment atop templates/assessments/_instrument_form.html. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-assessment]");
  if (!form) {
    return;
  }
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
    if (event.persisted) {
      sending = false;
    }
  });
  var steps = [].slice.call(form.querySelectorAll("section.step"));
  if (form.hasAttribute("data-show-all")) {
    return;
  }
  var QUESTION = "fieldset[id$='-group']";
  var current = 0;
  var timer = null;

  function stepIndexOf(element) {
    for (var i = 0; i < steps.length; i += 1) {
      if (steps[i].contains(element)) {
        return i;
      }
    }
    return -1;
  }

  function wait(on) {
    clearTimeout(timer);
    timer = null;
    form.toggleAttribute("data-advancing", on);
  }

  function show(index, target) {
    wait(false);
    current = index;
    steps.forEach(function (step, i) {
      step.classList.toggle("is-current", i === index);
    });
    if (target) {
      target.focus({ preventScroll: true });
      (target.closest("fieldset, .field, section.step") || target).scrollIntoView();
    }
  }

  function showStep(index) {
    show(index, steps[index].querySelector(".step-heading"));
  }
  function waiting(step) {
    return [].filter.call(step.querySelectorAll(QUESTION), function (question) {
      return !question.hasAttribute("data-optional") && !question.querySelector("input:checked");
    });
  }
  var tapped = null;
  form.addEventListener("pointerdown", function (event) {
    var question = event.target.closest(QUESTION);
    tapped = question && !question.querySelector("input:checked") ? question : null;
  }, true);
  form.addEventListener("keydown", function () {
    tapped = null;
  }, true);

  form.addEventListener("change", function (event) {
    var question = event.target.closest(QUESTION);
    var first = question && question === tapped;
    tapped = null;
    if (!first || question.hasAttribute("data-optional")) {
      return;
    }
    var index = stepIndexOf(question);
    var left = waiting(steps[index]);
    var later = left.filter(function (other) {
      return question.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING;
    })[0];
    if (left.length) {
      if (later) {
        later.scrollIntoView({ block: "nearest" });
      }
      return;
    }
    var next = index + 1;
    while (next < steps.length - 1 && !waiting(steps[next]).length) {
      next += 1;
    }
    if (next >= steps.length) {
      form.querySelector(".submit-area").scrollIntoView({ block: "nearest" });
      return;
    }
    wait(true);
    timer = setTimeout(function () {
      if (current === index && !waiting(steps[index]).length) {
        showStep(next);
      }
      wait(false);
    }, 300);
  });

  if (steps.length < 2) {
    return;
  }
  form.classList.add("js-steps");
  [].forEach.call(form.querySelectorAll(".step-nav, [data-steps-hint]"), function (hidden) {
    hidden.hidden = false;
  });
  steps.forEach(function (step) {
    var back = step.querySelector("[data-step-back]");
    if (back) {
      step.insertBefore(back.cloneNode(true), step.firstChild);
    }
  });
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-step-next], [data-step-back]");
    if (button) {
      showStep(current + (button.hasAttribute("data-step-next") ? 1 : -1));
      return;
    }
    var link = event.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    var index = target ? stepIndexOf(target) : -1;
    if (index >= 0) {
      event.preventDefault();
      show(index, target);
    }
  });
  var firstError = form.querySelector("section.step .has-error");
  show(firstError ? Math.max(stepIndexOf(firstError), 0) : 0, null);
})();
