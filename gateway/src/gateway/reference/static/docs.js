// Starts Swagger UI on /docs. A file, not an inline script, so the page's policy allows no
// inline script at all.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The default sends the document to an external validator (an image from another origin).
    validatorUrl: null,
  });
});
