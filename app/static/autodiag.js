/* Autodiag Médiation: nothing typed is lost, focus and announcements around htmx swaps.
 *
 * THE AUTOSAVE CONTRACT (for every page, not only the questionnaire):
 *   Put `data-autosave` on a container. Any element inside it that sends an htmx request
 *   (hx-post, hx-put…) is an autosaving element; nothing else is needed:
 *   - while its change is not confirmed by a 2xx reply it counts as unsent, and leaving the page
 *     (or a boosted link) asks first;
 *   - when the request fails (401/403: session expired or CSRF refused; network error or
 *     timeout; 5xx; 409 conflict and 422 refusal when the reply swaps nothing), a visible error
 *     with role="alert" is put right after the element, the values stay as typed, and it offers
 *     « Se reconnecter » (the in-page dialog #reconnexion, base.html) or « Réessayer »;
 *   - after signing in again (or coming back online) every failed element is sent again, with
 *     the fresh CSRF token, through `htmx.ajax(verb, path, {source: element})`, so its own
 *     hx-target / hx-select / hx-swap apply as the first time.
 *   The server's part: answer 2xx when saved; for a refusal the person must read (409, 422),
 *   swap a message in (htmx-config in base.html swaps 409/413/415/422). No JSON, no extra header.
 *
 * Focus and announcements, for any htmx swap on any page:
 *   - a GET that brings a form in (« Ajouter une preuve ») moves focus to its first field and
 *     remembers its trigger; Escape or a `[data-close-form]` button puts the trigger back and
 *     focuses it; when a later swap closes the form, focus goes back to the trigger too;
 *   - when a swap removes the focused element (« Confirmer cette réponse »), focus goes to the
 *     element that sent the request, else into the new content, never to <body>;
 *   - each swap's message (.answer-saved, [role=status], .alert, .field-error) is spoken through
 *     the live region #annonces unless it already sits in a live region.
 * Without JavaScript none of this runs: the forms post and redirect (303) as plain HTML.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var pending = new Map(); // element -> {verb, path, failed: "" | "session" | "network" | "server"}
  var openers = new Map(); // id of the region a form was opened in -> the trigger's markup
  var sent = new WeakMap(); // xhr -> {elt, target: the id of its target, verb}

  function kit(name) {
    var node = document.getElementById("autosave-kit");
    return node ? node.getAttribute("data-" + name) || "" : "";
  }

  function autosaving(elt) {
    return elt && elt.closest && elt.closest("[data-autosave]") ? elt : null;
  }

  function announce(text) {
    var region = document.getElementById("annonces");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  /* --- Failed autosaves ------------------------------------------------------------------- */

  function errorBox(elt) {
    var box = elt.nextElementSibling;
    if (box && box.classList.contains("autosave-error")) return box;
    box = document.createElement("div");
    box.className = "alert alert-error autosave-error";
    box.setAttribute("role", "alert");
    elt.insertAdjacentElement("afterend", box);
    return box;
  }

  function clearError(elt) {
    var box = elt.nextElementSibling;
    if (box && box.classList.contains("autosave-error")) box.remove();
  }

  function fail(elt, kind) {
    var entry = pending.get(elt);
    if (!entry) return;
    entry.failed = kind;
    var box = errorBox(elt);
    box.textContent = "";
    var message = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = kit(kind);
    message.appendChild(strong);
    box.appendChild(message);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-secondary";
    button.textContent = kind === "session" ? kit("sign-in") : kit("retry");
    button.addEventListener("click", kind === "session" ? openSignIn : resendAll);
    box.appendChild(button);
  }

  function resendAll() {
    return refreshToken().then(function (signedIn) {
      if (!signedIn) { openSignIn(); return; }
      pending.forEach(function (entry, elt) {
        if (!entry.failed || !elt.isConnected) return;
        entry.failed = "";
        htmx.ajax(entry.verb, entry.path, { source: elt });
      });
    });
  }

  function useToken(token) {
    var body = document.body;
    var headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
    headers["X-CSRF-Token"] = token;
    body.setAttribute("hx-headers", JSON.stringify(headers));
    document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) { input.value = token; });
  }

  function refreshToken() {
    return fetch("/connexion/jeton", { credentials: "same-origin", cache: "no-store" })
      .then(function (reply) { return reply.json(); })
      .then(function (data) { useToken(data.csrf_token); return data.signed_in; })
      .catch(function () { return true; }); // still offline: let the resend fail and say so again
  }

  /* --- The in-page sign-in ------------------------------------------------------------------ */

  function dialog() { return document.getElementById("reconnexion"); }

  function openSignIn() {
    var box = dialog();
    if (!box || box.open) return;
    box.querySelector("#reconnexion-erreur").hidden = true;
    box.showModal();
    box.querySelector("#reconnexion-mot-de-passe").focus();
  }

  function signIn(event) {
    event.preventDefault();
    var form = event.target;
    var said = form.querySelector("#reconnexion-erreur");
    refreshToken().then(function () {
      var data = new FormData(form);
      data.append("csrf_token", document.querySelector('input[name="csrf_token"]').value);
      return fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
    }).then(function (reply) {
      return reply.json().then(function (body) { return { ok: reply.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) { said.textContent = answer.body.error; said.hidden = false; return; }
      useToken(answer.body.csrf_token);
      form.reset();
      dialog().close();
      resendAll().then(function () { announce(kit("resent")); });
    }).catch(function () { said.textContent = kit("network"); said.hidden = false; });
  }

  /* --- htmx events ------------------------------------------------------------------------- */

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = autosaving(event.detail.elt);
    if (elt && event.detail.verb !== "get") {
      pending.set(elt, { verb: event.detail.verb, path: event.detail.path, failed: "" });
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail;
    if (detail.boosted && pending.size && !autosaving(detail.elt) && !window.confirm(kit("leave"))) {
      event.preventDefault();
      return;
    }
    var target = detail.target;
    sent.set(detail.xhr, { elt: detail.elt, target: target && target.id, verb: detail.requestConfig.verb });
  });

  // An expired session must not send the whole page to the sign-in form (HX-Redirect): handle it here.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var elt = autosaving(event.detail.elt);
    var status = event.detail.xhr.status;
    if (elt && pending.has(elt) && (status === 401 || status === 403)) {
      event.preventDefault();
      fail(elt, "session");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var request = event.detail.xhr && sent.get(event.detail.xhr);
    if (request && !event.detail.boosted && event.detail.successful !== false) afterSwap(request);
    var elt = autosaving(event.detail.elt);
    if (!elt || !pending.has(elt)) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 200 && status < 300) {
      pending.delete(elt);
      clearError(elt);
    } else if (status >= 500) {
      fail(elt, "server");
    } else if (status === 409 || status === 422) {
      clearError(elt); // the reply swapped its own message in; the change stays unsent
    }
  });

  function networkFailure(event) {
    var elt = autosaving(event.detail.elt);
    if (elt && pending.has(elt)) fail(elt, "network");
  }
  document.addEventListener("htmx:sendError", networkFailure);
  document.addEventListener("htmx:timeout", networkFailure);
  window.addEventListener("online", function () {
    var waiting = false;
    pending.forEach(function (entry) { waiting = waiting || entry.failed === "network"; });
    if (waiting) resendAll();
  });

  // Typed but not yet sent (the comment's 800 ms pause): unsent too.
  document.addEventListener("input", function (event) {
    var source = event.target.closest && event.target.closest("[data-autosave] [hx-post]");
    if (source && !pending.has(source)) {
      pending.set(source, { verb: "post", path: source.getAttribute("hx-post"), failed: "" });
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (!pending.size) return;
    event.preventDefault();
    event.returnValue = "";
  });

  /* --- Focus and announcements ---------------------------------------------------------------- */

  function firstField(region) {
    return region.querySelector("input:not([type=hidden]), select, textarea, button, a[href]");
  }

  function closeForm(regionId) {
    var region = document.getElementById(regionId);
    var markup = openers.get(regionId);
    if (!region || !markup) return;
    openers.delete(regionId);
    region.outerHTML = markup;
    var back = document.getElementById(regionId);
    htmx.process(back);
    var trigger = firstField(back);
    if (trigger) trigger.focus();
    announce(kit("closed"));
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var request = sent.get(event.detail.xhr);
    var target = event.detail.target;
    if (request && request.verb === "get" && target && target.id && !target.querySelector("form")) {
      openers.set(target.id, target.outerHTML);
    }
  });

  function afterSwap(request) {
    var region = request.target && document.getElementById(request.target);
    if (region && request.verb === "get" && openers.has(region.id) && region.querySelector("form")) {
      var field = firstField(region.querySelector("form"));
      if (field) field.focus();
      announce(kit("opened"));
      return;
    }
    openers.forEach(function (_markup, id) {
      var back = document.getElementById(id);
      if (back && !back.querySelector("form")) {
        openers.delete(id);
        var link = firstField(back);
        if (link && document.activeElement === document.body) link.focus();
      }
    });
    if (!document.activeElement || document.activeElement === document.body) {
      var place = request.elt && request.elt.isConnected ? request.elt : region;
      var next = place && (place.querySelector("input:checked") || firstField(place));
      if (next) next.focus();
    }
    if (region && !region.closest("[aria-live], [role=alert]")) {
      var said = region.querySelector(".answer-saved, [role=status], .alert, .field-error");
      if (said) announce(said.textContent.trim());
    }
  }

  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-close-form]");
    if (closer) { var region = closer.closest("[id]"); if (region) closeForm(region.id); }
    var cancel = event.target.closest && event.target.closest("[data-close-dialog]");
    if (cancel) cancel.closest("dialog").close();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var form = event.target.closest("form");
    var region = form && form.parentElement;
    if (region && region.id && openers.has(region.id)) closeForm(region.id);
  });

  document.addEventListener("submit", function (event) {
    if (event.target.closest && event.target.closest("#reconnexion")) signIn(event);
  });
})();
