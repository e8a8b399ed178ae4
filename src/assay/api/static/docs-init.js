// Starts Swagger UI on the API documentation page. It lives in its own file (no inline script)
// so that the page works under the app's Content-Security-Policy (script-src 'self').
//
// The bundled Swagger UI (4.x, from the swagger_ui_bundle package) reads OpenAPI 3.0 only,
// while /api/openapi.json is OpenAPI 3.1. The document is fetched here and adapted for display:
// nullable unions become `nullable`, JSON Schema `examples` lists become `example`. The
// published document itself is left untouched.
(function () {
  "use strict";

  function isNullSchema(schema) {
    return schema !== null && typeof schema === "object" && schema.type === "null";
  }

  function adaptSchemaKeywords(node) {
    if (Array.isArray(node.anyOf) && node.anyOf.some(isNullSchema)) {
      var others = node.anyOf.filter(function (schema) { return !isNullSchema(schema); });
      delete node.anyOf;
      node.nullable = true;
      if (others.length === 1 && others[0].$ref) {
        node.allOf = [others[0]];
      } else if (others.length === 1) {
        Object.keys(others[0]).forEach(function (key) {
          if (!(key in node)) {
            node[key] = others[0][key];
          }
        });
      } else {
        node.anyOf = others;
      }
    }
    if (Array.isArray(node.examples)) {
      if (node.examples.length > 0 && !("example" in node)) {
        node.example = node.examples[0];
      }
      delete node.examples;
    }
    if ("const" in node) {
      node.enum = [node["const"]];
      delete node["const"];
    }
    return node;
  }

  function toOpenApi30(node) {
    if (Array.isArray(node)) {
      return node.map(toOpenApi30);
    }
    if (node === null || typeof node !== "object") {
      return node;
    }
    var copy = {};
    Object.keys(node).forEach(function (key) {
      copy[key] = toOpenApi30(node[key]);
    });
    return adaptSchemaKeywords(copy);
  }

  function start(root, spec) {
    window.ui = window.SwaggerUIBundle({
      spec: spec,
      domNode: root,
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null,
      defaultModelsExpandDepth: 0,
    });
  }

  function showError(root, message) {
    var paragraph = document.createElement("p");
    paragraph.className = "docs-error";
    paragraph.textContent = message;
    root.replaceChildren(paragraph);
  }

  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var url = root.getAttribute("data-openapi-url");
  fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("the API description could not be loaded (HTTP " + response.status + ")");
      }
      return response.json();
    })
    .then(function (spec) {
      var adapted = toOpenApi30(spec);
      if (typeof adapted.openapi === "string" && adapted.openapi.indexOf("3.1") === 0) {
        adapted.openapi = "3.0.3";
      }
      start(root, adapted);
    })
    .catch(function (error) {
      showError(root, String(error.message || error));
    });
})();
