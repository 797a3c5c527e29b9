// billing-ops page behaviour (no inline scripts: the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // Practice switcher: switch as soon as a practice is chosen.
  const select = document.getElementById("practice-select");
  if (select) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // Confirm dangerous actions (forms marked data-confirm).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
// HTMX requests carry the CSRF token from the cookie-less hidden input on the page.
document.body.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) event.detail.headers["X-CSRFToken"] = token.value;
});
