/* Drafts, the outbox and the service worker: what is kept on this device, for how long and
   why is in docs/security.md ("Kept on the device"). Progressive enhancement: every form works
   without this file. No user-visible text lives here: the words come from #device-status. */
(function () {
  "use strict";

  var STORE = "pallapp.device.v1";
  var MAX_AGE_MS = 12 * 60 * 60 * 1000;
  var body = document.body;
  var account = body.getAttribute("data-account") || "";
  var statusBox = document.getElementById("device-status");
  var justSent = [];
  var inFlight = {}; // tokens being sent from this page (never stored: a crash must not pin them)

  // --- storage ---------------------------------------------------------------------------
  function load() {
    try {
      var entries = JSON.parse(window.localStorage.getItem(STORE) || "{}");
      return entries && typeof entries === "object" ? entries : {};
    } catch (error) {
      return {};
    }
  }

  function save(entries) {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(entries));
    } catch (error) {
      // Storage full or refused (private mode): the form still works as a plain form.
    }
  }

  function put(entry) {
    var entries = load();
    entry.saved = Date.now();
    entries[entry.token] = entry;
    save(entries);
  }

  function remove(token) {
    var entries = load();
    delete entries[token];
    save(entries);
  }

  function purgeOld() {
    var entries = load();
    var now = Date.now();
    Object.keys(entries).forEach(function (token) {
      if (!entries[token] || now - entries[token].saved > MAX_AGE_MS) {
        delete entries[token];
      }
    });
    save(entries);
  }

  function mine(state) {
    var entries = load();
    return Object.keys(entries).map(function (token) {
      return entries[token];
    }).filter(function (entry) {
      return entry.account === account && (!state || entry.state === state);
    });
  }

  // --- words -----------------------------------------------------------------------------
  function text(name) {
    var holder = document.querySelector("[data-text-" + name + "]");
    return holder ? holder.getAttribute("data-text-" + name) : "";
  }

  function clock(ms) {
    var when = new Date(ms);
    return ("0" + when.getHours()).slice(-2) + ":" + ("0" + when.getMinutes()).slice(-2);
  }

  function line(parent, words, link, linkWords, kind) {
    var p = document.createElement("p");
    p.className = "message " + (kind || "info");
    p.appendChild(document.createTextNode(words + " "));
    if (link) {
      var a = document.createElement("a");
      a.href = link;
      a.textContent = linkWords;
      p.appendChild(a);
    }
    parent.appendChild(p);
    return p;
  }

  function showStatus() {
    if (!statusBox) {
      return;
    }
    statusBox.textContent = "";
    var entries = account ? mine("outbox") : allOutbox();
    entries.forEach(function (entry) {
      var words = entry.waitingLogin ? text("waiting-login") : text("outbox");
      line(statusBox, (entry.title ? entry.title + " · " + clock(entry.saved) + ": " : "") + words,
        null, null, "warning");
    });
    justSent.forEach(function (entry) {
      line(statusBox, (entry.title ? entry.title + ": " : "") + text("sent"), entry.sentTo,
        text("open"), "success");
    });
    mine("attention").forEach(function (entry) {
      line(statusBox, (entry.title ? entry.title + ": " : "") + text("not-sent"), entry.path,
        text("open-form"), "error");
    });
    statusBox.hidden = statusBox.childNodes.length === 0;
  }

  function allOutbox() {
    var entries = load();
    return Object.keys(entries).map(function (token) {
      return entries[token];
    }).filter(function (entry) {
      return entry.state === "outbox";
    });
  }

  // --- sending ---------------------------------------------------------------------------
  function csrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function bodyOf(entry) {
    var params = new URLSearchParams();
    var fresh = csrfToken();
    entry.fields.forEach(function (pair) {
      if (pair[0] === "csrf_token") {
        // The token of the page sending now: the session may be newer than the form's.
        params.append("csrf_token", fresh || pair[1]);
      } else {
        params.append(pair[0], pair[1]);
      }
    });
    return params;
  }

  function loginUrl(path) {
    var login = body.getAttribute("data-login") || "/login";
    return login + "?next=" + encodeURIComponent(path);
  }

  // Resolves with "stored", "login", "page" (an answer to show: errors, a question) or
  // "offline"; the entry is updated to match.
  function send(entry) {
    entry.state = "outbox";
    put(entry);
    inFlight[entry.token] = true;
    return window.fetch(entry.path, {
      method: "POST",
      body: bodyOf(entry),
      credentials: "same-origin",
      headers: { "X-Pallapp-Send": "1" },
      // JSON: stored. A redirect: the session ended (to the login page).
      redirect: "manual"
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.ok && type.indexOf("application/json") === 0) {
        return response.json().then(function (answer) {
          // Sent: only the token and the address stay (for Back), never the answers.
          put({ token: entry.token, account: entry.account, path: entry.path,
                title: entry.title, state: "sent", sentTo: answer.location, fields: [] });
          entry.sentTo = answer.location;
          return "stored";
        });
      }
      if (response.type === "opaqueredirect") {
        entry.waitingLogin = true;
        put(entry);
        return "login";
      }
      return "page";
    }, function () {
      entry.waitingLogin = false;
      put(entry);
      return "offline";
    }).then(function (outcome) {
      delete inFlight[entry.token];
      return outcome;
    });
  }

  var flushing = false;
  function flushOutbox() {
    if (!account || flushing || !window.fetch) {
      return;
    }
    var pending = mine("outbox").filter(function (entry) {
      return !inFlight[entry.token];
    });
    if (!pending.length) {
      return;
    }
    flushing = true;
    var chain = Promise.resolve();
    pending.forEach(function (entry) {
      chain = chain.then(function () {
        return send(entry).then(function (outcome) {
          if (outcome === "stored") {
            justSent.push(entry);
          } else if (outcome === "page") {
            // A question or an error the user must see: back to a draft, shown in the form.
            entry.state = "attention";
            put(entry);
          }
        });
      });
    });
    chain.then(function () {
      flushing = false;
      showStatus();
    });
  }

  // --- the form on this page -------------------------------------------------------------
  function fieldsOf(form, submitter) {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") {
        pairs.push([name, value]);
      }
    });
    if (submitter && submitter.name) {
      pairs.push([submitter.name, submitter.value]);
    }
    return pairs;
  }

  function restore(form, entry) {
    var byName = {};
    entry.fields.forEach(function (pair) {
      (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]);
    });
    Array.prototype.forEach.call(form.elements, function (element) {
      var name = element.name;
      if (!name || name === "csrf_token" || element.type === "submit" ||
          element.type === "button") {
        return;
      }
      var values = byName[name] || [];
      if (element.type === "radio" || element.type === "checkbox") {
        element.checked = values.indexOf(element.value) !== -1;
      } else if (name === "client_token" || values.length) {
        element.value = values.length ? values[0] : element.value;
      }
    });
  }

  function notice(form, words, link, linkWords, kind) {
    var box = document.createElement("div");
    box.setAttribute("role", "status");
    box.className = "device-notice";
    line(box, words, link, linkWords, kind);
    form.parentNode.insertBefore(box, form);
    return box;
  }

  function setUpForm(form) {
    var tokenInput = form.querySelector("input[name=client_token]");
    if (!tokenInput || !account || !window.fetch) {
      return;
    }
    var path = form.getAttribute("action") || window.location.pathname + window.location.search;
    var title = (document.querySelector("h1") || {}).textContent || "";
    var navigation = (performance.getEntriesByType &&
      performance.getEntriesByType("navigation")[0]) || {};
    var earlier = load()[tokenInput.value];

    if (!form.hasAttribute("data-unsaved") && !earlier) {
      // A fresh form: is there an earlier one of this account for the same address?
      var previous = mine().filter(function (entry) {
        return entry.path === path;
      }).sort(function (a, b) {
        return b.saved - a.saved;
      })[0];
      if (previous && previous.state === "sent") {
        if (navigation.type === "back_forward") {
          // Back to a form already sent: keep its token, so that sending again stores nothing.
          tokenInput.value = previous.token;
          notice(form, text("already-sent"), previous.sentTo, text("open"), "info");
        }
      } else if (previous && previous.state !== "outbox") {
        // (A form in the outbox is not put back: it is sent as it is, and the status says so.)
        restore(form, previous);
        if (previous.state === "attention") {
          previous.state = "draft";
          put(previous);
        }
        notice(form, text("restored").replace("{time}", clock(previous.saved)), null, null,
          "info");
      }
    }

    function keepDraft() {
      var entry = load()[tokenInput.value] || {};
      if (entry.state === "sent") {
        return;
      }
      put({ token: tokenInput.value, account: account, path: path, title: title,
            state: entry.state === "outbox" ? "outbox" : "draft", fields: fieldsOf(form) });
    }
    form.addEventListener("input", keepDraft);
    form.addEventListener("change", keepDraft);
    if (form.hasAttribute("data-unsaved")) {
      keepDraft(); // answers sent back with a question or errors: still not stored
    }

    var sending = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) {
        return; // a double tap: the first one is on its way
      }
      sending = true;
      var submitter = event.submitter || null;
      var buttons = form.querySelectorAll("button[type=submit], input[type=submit]");
      Array.prototype.forEach.call(buttons, function (button) {
        button.setAttribute("aria-disabled", "true");
      });
      var entry = { token: tokenInput.value, account: account, path: path, title: title,
                    state: "outbox", fields: fieldsOf(form, submitter) };
      send(entry).then(function (outcome) {
        if (outcome === "stored") {
          window.location.assign(entry.sentTo);
          return;
        }
        sending = false;
        Array.prototype.forEach.call(buttons, function (button) {
          button.removeAttribute("aria-disabled");
        });
        if (outcome === "login") {
          // The session ended: the answers stay here as a draft and come back after login.
          entry.state = "draft";
          entry.waitingLogin = false;
          put(entry);
          window.location.assign(loginUrl(entry.path));
        } else if (outcome === "page") {
          // Errors or a question: the browser sends the form itself (nothing was stored).
          entry.state = "draft";
          put(entry);
          if (submitter && submitter.name) {
            var hidden = document.createElement("input");
            hidden.type = "hidden";
            hidden.name = submitter.name;
            hidden.value = submitter.value;
            form.appendChild(hidden);
          }
          HTMLFormElement.prototype.submit.call(form);
        } else {
          put(entry);
          showStatus();
          // The send button is at the end of the form: bring the status line into view.
          if (statusBox) {
            statusBox.setAttribute("tabindex", "-1");
            statusBox.focus({ preventScroll: true });
            statusBox.scrollIntoView({ block: "start" });
          }
        }
      });
    });
  }

  // --- logout ----------------------------------------------------------------------------
  function setUpLogout() {
    var forms = document.querySelectorAll("form[action$='/logout']");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function () {
        // Drafts and sent markers go; forms in the outbox wait for the same person.
        var entries = load();
        Object.keys(entries).forEach(function (token) {
          if (entries[token].account === account && entries[token].state !== "outbox") {
            delete entries[token];
          }
        });
        save(entries);
      });
    });
  }

  // --- start -----------------------------------------------------------------------------
  purgeOld();
  var deviceForm = document.querySelector("form[data-device-form]");
  if (deviceForm) {
    setUpForm(deviceForm);
  }
  setUpLogout();
  showStatus();
  flushOutbox();
  // Back when the server answers (navigator.onLine only says some network is there).
  var probe = body.getAttribute("data-probe") || "/healthz";
  function whenReachable() {
    if (!window.fetch || navigator.onLine === false) {
      return;
    }
    window.fetch(probe, { cache: "no-store", credentials: "omit" }).then(function (response) {
      if (!response.ok) {
        return;
      }
      if (body.hasAttribute("data-offline-page")) {
        window.location.reload();
      } else {
        flushOutbox();
      }
    }, function () {
      // Still no connection: the next try comes.
    });
  }
  window.addEventListener("online", whenReachable);
  window.setInterval(function () {
    if (body.hasAttribute("data-offline-page") || (account && mine("outbox").length)) {
      whenReachable();
    }
  }, 5000);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      showStatus();
      flushOutbox();
    }
  });

  var worker = body.getAttribute("data-service-worker");
  if (worker && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(worker).catch(function () {
      // No worker (e.g. plain http on another host): pages still work, only not offline.
    });
  }
}());
