/* Assessment forms: progressive enhancement only; the form works fully without this file.
   - one step at a time with Back/Next (buttons rendered by the template, hidden until now);
   - after a tap on an answer the form moves on by itself: to the next unanswered question of
     the step, or, once every expected answer of the step is given, to the next step that still
     lacks one (so a form takes one tap per answer and one to send). Only a first answer given
     with a pointer moves on: changing an answer, the arrow keys and the space bar never do, and
     optional questions (free text, other symptoms, choices) are never waited for;
   - focus and scroll move to the heading of the step shown (a screen reader reads it out);
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
  if (form.hasAttribute("data-show-all")) {
    return;
  }
  var stepped = steps.length > 1;
  var current = 0;
  // A short pause before the next step: the tapped answer is seen chosen before it goes.
  var ADVANCE_DELAY_MS = 300;
  var pendingAdvance = null;

  function stepIndexOf(element) {
    for (var i = 0; i < steps.length; i += 1) {
      if (steps[i].contains(element)) {
        return i;
      }
    }
    return -1;
  }

  function cancelAdvance() {
    if (pendingAdvance !== null) {
      window.clearTimeout(pendingAdvance);
      pendingAdvance = null;
      form.removeAttribute("data-advancing");
    }
  }

  function show(index, focusTarget) {
    cancelAdvance();
    current = index;
    steps.forEach(function (step, i) {
      step.classList.toggle("is-current", i === index);
    });
    if (focusTarget) {
      focusTarget.focus({ preventScroll: true });
      // A radio button is drawn by its label: show its whole question; a heading is shown with
      // the top of its step (the way back is there).
      (focusTarget.closest("fieldset, .field, section.step") || focusTarget)
        .scrollIntoView({ block: "start" });
    }
  }

  // --- moving on after a tap -------------------------------------------------------------
  function questionsOf(step) {
    return Array.prototype.slice.call(step.querySelectorAll("fieldset[data-answer]"));
  }

  function answered(question) {
    return question.querySelector("input[type=radio]:checked") !== null;
  }

  function complete(step) {
    return questionsOf(step).every(function (question) {
      return question.getAttribute("data-answer") !== "expected" || answered(question);
    });
  }

  // The question touched by the last pointer, and whether it had an answer then. Recorded on
  // pointerdown (before the radio changes); a key press forgets it, so only taps move on.
  var tapped = null;
  form.addEventListener("pointerdown", function (event) {
    var question = event.target.closest && event.target.closest("fieldset[data-answer]");
    tapped = question ? { question: question, hadAnswer: answered(question) } : null;
  }, true);
  form.addEventListener("keydown", function () {
    tapped = null;
  }, true);

  function moveOn(question) {
    var step = question.closest("section.step");
    var index = steps.indexOf(step);
    // The next question still waiting for an expected answer (optional ones are passed by:
    // they are seen on the way and never cost a tap).
    var later = questionsOf(step).filter(function (other) {
      return (question.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING) &&
        other.getAttribute("data-answer") === "expected" && !answered(other);
    })[0];
    if (later) {
      later.scrollIntoView({ block: "nearest" });
      return;
    }
    if (!complete(step)) {
      return; // an expected answer is still missing above: Next (or Save) is the person's call
    }
    var next = -1;
    for (var i = index + 1; i < steps.length; i += 1) {
      if (!complete(steps[i])) {
        next = i;
        break;
      }
    }
    if (next < 0 && index < steps.length - 1) {
      next = steps.length - 1; // every later step is complete: go to the one that sends
    }
    if (next < 0 || !stepped) {
      var submitArea = form.querySelector(".submit-area");
      if (submitArea) {
        submitArea.scrollIntoView({ block: "nearest" });
      }
      return;
    }
    cancelAdvance();
    form.setAttribute("data-advancing", "1");
    pendingAdvance = window.setTimeout(function () {
      pendingAdvance = null;
      form.removeAttribute("data-advancing");
      // Only if the person is still where they tapped (no Back or Next in between).
      if (current === index && complete(step)) {
        show(next, steps[next].querySelector(".step-heading"));
      }
    }, ADVANCE_DELAY_MS);
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "radio") {
      return;
    }
    var question = input.closest("fieldset[data-answer]");
    var tap = tapped;
    tapped = null;
    if (!question || !tap || tap.question !== question || tap.hadAnswer) {
      return; // a key, a changed answer or a rating inside a list: stay
    }
    moveOn(question);
  });

  if (!stepped) {
    return;
  }

  form.classList.add("js-steps");
  var hint = form.querySelector("[data-steps-hint]");
  if (hint) {
    hint.hidden = false;
  }
  steps.forEach(function (step, i) {
    Array.prototype.forEach.call(step.querySelectorAll(".step-nav, .step-back-top"),
      function (nav) {
        nav.hidden = false;
      });
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
