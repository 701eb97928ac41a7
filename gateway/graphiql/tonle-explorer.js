// Tonle's explorer: GraphiQL that calls the gateway as one partner, for one purpose.
//
// The API key, purpose and optional end user are sent as headers on every request,
// introspection included, so the docs pane and completion show exactly the schema view the
// gateway gives that partner for that purpose. Changing them builds a new fetcher, which makes
// GraphiQL drop the schema it had and introspect again.
//
// Nothing here outlives the browser tab: the caller's fields and GraphiQL's own state (tabs,
// queries, variables, history) live in sessionStorage, never in localStorage or the URL, since
// variables and history name real people.
(function () {
  "use strict";

  const endpoint = window.location.pathname;
  const saved = "tonle.explorer.";
  // Errors that mean "the gateway refused this caller", whatever the request was.
  const refusals = new Set(["UNAUTHENTICATED", "FORBIDDEN_PURPOSE", "RATE_LIMITED"]);
  const inputs = {
    key: document.getElementById("tonle-key"),
    purpose: document.getElementById("tonle-purpose"),
    endUser: document.getElementById("tonle-end-user"),
  };
  const alertBox = document.getElementById("tonle-alert");

  // Older versions of the plain page kept the key in localStorage; take it out.
  for (const legacy of ["tonle.key", "tonle.purpose"]) localStorage.removeItem(legacy);

  for (const [name, input] of Object.entries(inputs)) {
    input.value = sessionStorage.getItem(saved + name) || "";
  }

  function caller() {
    return {
      key: inputs.key.value.trim(),
      purpose: inputs.purpose.value.trim(),
      endUser: inputs.endUser.value.trim(),
    };
  }

  function showAlert(message) {
    alertBox.textContent = message;
    alertBox.hidden = !message;
  }

  // GraphiQL shows a failed introspection in its result pane and leaves it there once the
  // schema does load; clear it then, unless a query's result has replaced it.
  let refusalShown = null;
  function clearRefusal() {
    const editor = document.querySelector(".graphiql-response .CodeMirror");
    if (refusalShown !== null && editor && editor.CodeMirror.getValue() === refusalShown) {
      editor.CodeMirror.setValue("");
    }
    refusalShown = null;
  }

  function describe(status, body) {
    const errors = (body && body.errors) || [];
    if (!errors.length) return "The gateway answered HTTP " + status + " with no data.";
    return errors
      .map((e) => {
        const code = e.extensions && e.extensions.code;
        return (code ? code + ": " : "") + e.message;
      })
      .join("\n");
  }

  function makeFetcher(who) {
    return async function fetcher(params, options) {
      const headers = {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
        ...((options && options.headers) || {}),
      };
      if (who.key) headers.Authorization = "Bearer " + who.key;
      if (who.purpose) headers["X-Purpose"] = who.purpose;
      if (who.endUser) headers["X-Tonle-End-User"] = who.endUser;
      const introspection = params.operationName === "IntrospectionQuery";
      let response;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify(params),
          credentials: "same-origin",
        });
      } catch (error) {
        showAlert("The gateway did not answer: " + error.message);
        throw error;
      }
      const text = await response.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch (_) {
        body = { errors: [{ message: "HTTP " + response.status + ": " + text.slice(0, 300) }] };
      }
      const refused = (body.errors || []).some(
        (e) => e.extensions && refusals.has(e.extensions.code),
      );
      if (refused || (introspection && !body.data)) {
        const where = introspection ? "The schema could not be loaded" : "The gateway refused";
        showAlert(where + " (HTTP " + response.status + ")\n" + describe(response.status, body));
        if (introspection) refusalShown = JSON.stringify(body, null, 2);
      } else if (introspection) {
        showAlert("");
        clearRefusal();
      }
      return body;
    };
  }

  const start = [
    "# Tonle GraphQL explorer",
    "#",
    "# 1. Enter your API key and purpose above.",
    "# 2. The docs (book icon, left) and completion",
    "#    (Ctrl+Space) show what you may query",
    "#    for that purpose.",
    "# 3. Run with Ctrl+Enter.",
    "",
    "{",
    "  __typename",
    "}",
    "",
  ].join("\n");

  const logo = React.createElement(
    GraphiQL.Logo,
    null,
    React.createElement("span", { className: "tonle-logo" }, "Tonle"),
  );
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));

  function render() {
    root.render(
      React.createElement(
        GraphiQL,
        {
          fetcher: makeFetcher(caller()),
          storage: window.sessionStorage,
          shouldPersistHeaders: false,
          defaultQuery: start,
          defaultEditorToolsVisibility: "variables",
        },
        logo,
      ),
    );
  }

  let pending = null;
  function changed() {
    const who = caller();
    for (const [name, value] of Object.entries(who)) {
      if (value) sessionStorage.setItem(saved + name, value);
      else sessionStorage.removeItem(saved + name);
    }
    clearTimeout(pending);
    pending = setTimeout(render, 300);
  }

  for (const input of Object.values(inputs)) input.addEventListener("input", changed);
  render();
})();
