// Initialises ReDoc on /api/redoc/. Kept out of the page because the
// Content-Security-Policy allows only same-origin scripts (no inline code).
window.addEventListener("DOMContentLoaded", function () {
  Redoc.init("/api/schema/?format=json", {}, document.getElementById("redoc"));
});
